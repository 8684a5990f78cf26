//===- cleave-calibrate.cpp - measure this machine into a cluster profile -===//
//
// Writes the `cpu` cluster profile (docs/cluster.md) from measurements on
// the machine it runs on. Every rank is one device, as in a generated CPU
// program launched with mpirun; all ranks measure at once, so the rates
// include the sharing of caches and memory that real runs see:
//   1. compute: single-threaded OpenBLAS sgemm (2 n^3 FLOPs), best of a few;
//   2. memory: the STREAM triad a = b + s * c (3 arrays of 4-byte floats
//      read or written once);
//   3. link: MPI ping-pong between ranks 0 and 1 (latency = half the round
//      trip of an 8-byte message; bandwidth = a large message over half its
//      round trip less that latency);
//   4. collective efficiency: MPI_Allreduce over all ranks against the ring
//      formula's prediction from (3).
// The measured rates are rates real kernels reach, so both efficiencies
// are 1. Every rate is the best of several trials, since other work on the
// machine only ever slows a trial down: on a busy machine ask for more
// (--trials). Usage:
//   mpirun -np <cores> cleave-calibrate --output cpu.json [--quick] [--trials N]
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cluster/Cluster.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

/// How long and how large each measurement is.
struct Sizes {
  int gemmN;           // sgemm is gemmN x gemmN x gemmN
  double minSeconds;   // each timed loop runs at least this long
  int trials;          // best of this many
  size_t streamFloats; // elements of each triad array (well past the caches)
  int latencyRounds;   // ping-pong round trips of 8 bytes
  size_t largeMessage; // bytes of the bandwidth ping-pong and the all-reduce
  int largeRounds;     // round trips / all-reduces of the large message
};

constexpr Sizes kFull{1024, 0.2, 10, 16u << 20, 2000, 16u << 20, 5};
constexpr Sizes kQuick{256, 0.05, 2, 4u << 20, 200, 1u << 20, 5};

/// Runs `body` (one unit of work) repeatedly on all ranks at once, at least
/// `minSeconds`; returns the best seconds per unit over `trials`, the
/// slowest rank's time for each trial.
template <typename Body> double timeAll(const Sizes &sizes, Body body) {
  double best = 1e30;
  for (int trial = 0; trial < sizes.trials; ++trial) {
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    long units = 0;
    do {
      body();
      ++units;
    } while (MPI_Wtime() - start < sizes.minSeconds);
    double perUnit = (MPI_Wtime() - start) / units;
    double slowest;
    MPI_Allreduce(&perUnit, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    best = std::min(best, slowest);
  }
  return best;
}

double measureSgemm(const Sizes &sizes) {
  int n = sizes.gemmN;
  std::vector<float> a(size_t(n) * n, 1.0f), b(size_t(n) * n, 0.5f), c(size_t(n) * n, 0.0f);
  double seconds = timeAll(sizes, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  });
  return 2.0 * n * n * n / seconds;
}

double measureTriad(const Sizes &sizes) {
  size_t n = sizes.streamFloats;
  std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  float scale = 3.0f;
  double seconds = timeAll(sizes, [&] {
    float *__restrict pa = a.data();
    const float *__restrict pb = b.data();
    const float *__restrict pc = c.data();
    for (size_t i = 0; i < n; ++i)
      pa[i] = pb[i] + scale * pc[i];
  });
  // Keep the stores observable.
  volatile float sink = a[n / 2];
  (void)sink;
  return 3.0 * n * sizeof(float) / seconds;
}

/// Seconds of one round trip of `bytes` bytes between ranks 0 and 1: the
/// best of `trials` averages, since a busy machine only ever adds time.
double pingPong(size_t bytes, int rounds, int trials, int rank) {
  std::vector<char> buffer(std::max<size_t>(bytes, 1));
  double best = 1e30;
  for (int trial = 0; trial < trials; ++trial) {
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int i = 0; i < rounds; ++i) {
      if (rank == 0) {
        MPI_Send(buffer.data(), int(bytes), MPI_CHAR, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(buffer.data(), int(bytes), MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buffer.data(), int(bytes), MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buffer.data(), int(bytes), MPI_CHAR, 0, 0, MPI_COMM_WORLD);
      }
    }
    best = std::min(best, (MPI_Wtime() - start) / rounds);
  }
  MPI_Bcast(&best, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return best;
}

double measureAllReduce(const Sizes &sizes) {
  size_t floats = sizes.largeMessage / sizeof(float);
  std::vector<float> in(floats, 1.0f), out(floats);
  MPI_Barrier(MPI_COMM_WORLD);
  double best = 1e30;
  for (int trial = 0; trial < sizes.trials; ++trial) {
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int i = 0; i < sizes.largeRounds; ++i)
      MPI_Allreduce(in.data(), out.data(), int(floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double seconds = (MPI_Wtime() - start) / sizes.largeRounds, slowest;
    MPI_Allreduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    best = std::min(best, slowest);
  }
  return best;
}

std::string today() {
  char text[32];
  std::time_t now = std::time(nullptr);
  std::strftime(text, sizeof(text), "%Y-%m-%d", std::gmtime(&now));
  return text;
}

std::string hostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0)
    return "unknown host";
  return name;
}

int usage(int rank, const char *message) {
  if (rank == 0)
    llvm::errs() << "cleave-calibrate: error: " << message
                 << "\nusage: mpirun -np <cores> cleave-calibrate [--output FILE] [--quick] "
                    "[--trials N]\n";
  MPI_Finalize();
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);

  std::string output;
  Sizes sizes = kFull;
  int trials = 0; // 0: the preset's
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick"))
      sizes = kQuick;
    else if (!std::strcmp(argv[i], "--output") && i + 1 < argc)
      output = argv[++i];
    else if (!std::strcmp(argv[i], "--trials") && i + 1 < argc) {
      trials = std::atoi(argv[++i]);
      if (trials < 1)
        return usage(rank, "--trials needs a positive count");
    } else
      return usage(rank, (std::string("unknown argument '") + argv[i] + "'").c_str());
  }
  if (trials > 0)
    sizes.trials = trials;
  if (ranks < 2)
    return usage(rank, "needs at least 2 MPI ranks to measure the link between them");

  // One thread per rank: a rank is one device.
  openblas_set_num_threads(1);
  double flops = measureSgemm(sizes);
  double meanFlops;
  MPI_Allreduce(&flops, &meanFlops, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  meanFlops /= ranks;
  double memoryBandwidth = measureTriad(sizes);
  double meanBandwidth;
  MPI_Allreduce(&memoryBandwidth, &meanBandwidth, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  meanBandwidth /= ranks;

  double latency = pingPong(8, sizes.latencyRounds, sizes.trials, rank) / 2;
  double largeOneWay = pingPong(sizes.largeMessage, sizes.largeRounds, sizes.trials, rank) / 2;
  double linkBandwidth = sizes.largeMessage / std::max(largeOneWay - latency, 1e-12);
  double allReduce = measureAllReduce(sizes);
  // The ring formula with perfect efficiency; what MPI reaches is its share.
  double n = ranks, bytes = double(sizes.largeMessage);
  double predicted = 2 * (n - 1) / n * bytes / linkBandwidth + 2 * (n - 1) * latency;
  double collectiveEfficiency = std::clamp(predicted / allReduce, 0.05, 1.0);

  long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  double memoryBytes = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));

  int status = 0;
  if (rank == 0) {
    std::string description =
        "This machine (" + hostName() + ", " + std::to_string(cores) +
        " cores) as measured by `mpirun -np " + std::to_string(ranks) +
        " cleave-calibrate --trials " + std::to_string(sizes.trials) + "` on " + today() +
        (sizes.gemmN == kQuick.gemmN ? " (--quick)" : "") +
        ": a device is one MPI rank on one core. Peak = single-threaded OpenBLAS sgemm " +
        std::to_string(sizes.gemmN) +
        "^3 with every rank busy (the CPU has no faster 16-bit units: bf16 and f16 run at "
        "the f32 rate); memory = STREAM triad per rank with every rank busy; link = MPI "
        "ping-pong; collective efficiency = MPI_Allreduce against the ring formula; memory = "
        "RAM / cores. Measured rates, so both efficiencies are 1.";
    mlir::cleave::Cluster measured;
    measured.description = description;
    measured.nodes = 1;
    measured.devicesPerNode = cores;
    measured.oversubscribe = true;
    measured.peakFlops.fill(meanFlops);
    measured.memoryBandwidth = meanBandwidth;
    measured.memoryCapacity = static_cast<int64_t>(memoryBytes / cores);
    measured.intraNode = {linkBandwidth, latency};
    measured.interNode = measured.intraNode;
    measured.collectiveEfficiency = collectiveEfficiency;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("{0:2}", mlir::cleave::clusterToJSON(measured));
    text += "\n";
    // Check what we wrote with the loader that will read it.
    if (llvm::Expected<mlir::cleave::Cluster> check =
            mlir::cleave::parseCluster(text, output.empty() ? "<stdout>" : output);
        !check) {
      llvm::errs() << "cleave-calibrate: error: the measured profile does not load: "
                   << llvm::toString(check.takeError()) << "\n";
      status = 1;
    } else if (output.empty()) {
      llvm::outs() << text;
    } else {
      std::error_code ec;
      llvm::raw_fd_ostream file(output, ec);
      if (ec) {
        llvm::errs() << "cleave-calibrate: error: cannot write '" << output << "': " << ec.message()
                     << "\n";
        status = 1;
      } else {
        file << text;
      }
    }
    llvm::errs() << llvm::format("sgemm %.1f GFLOP/s per rank, triad %.1f GB/s per rank, "
                                 "link %.2f us / %.2f GB/s, all-reduce efficiency %.2f\n",
                                 meanFlops / 1e9, meanBandwidth / 1e9, latency * 1e6,
                                 linkBandwidth / 1e9, collectiveEfficiency);
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
