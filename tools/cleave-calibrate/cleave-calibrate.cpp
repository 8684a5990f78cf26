//===- cleave-calibrate.cpp - measure this machine into a cluster profile -===//
//
// Writes the `cpu` cluster profile (docs/cluster.md) from measurements on
// the machine it runs on. Every rank is one device, as in a generated CPU
// program launched with mpirun; all ranks measure at once, so the rates
// include the sharing of caches and memory that real runs see:
//   1. compute: single-threaded OpenBLAS sgemm (2 m k n FLOPs) at the
//      sizes of the products of the models a CPU rank trains (rows = batch
//      x sequence of a few hundred, widths 64 to 512), the median rate;
//   2. memory: the STREAM triad a = b + s * c (3 arrays of 4-byte floats
//      read or written once), on arrays the size of those models' tensors;
//   3. link: MPI ping-pong between ranks 0 and 1 (latency = half the round
//      trip of an 8-byte message; bandwidth = a large message over half its
//      round trip less that latency);
//   4. collective efficiency: MPI_Allreduce over all ranks against the ring
//      formula's prediction from (3);
//   5. the MPI library's own collectives (MPI_Allreduce,
//      MPI_Reduce_scatter_block, MPI_Allgather) at several sizes, each
//      fitted to latency + volume / bandwidth with the ring formula's volume
//      (the profile's `collectives` object).
// The measured rates are rates real kernels reach, so both efficiencies
// are 1. Every time is the median of many calls each timed alone (timeAll),
// which leaves out the calls other work on the machine preempted; the
// link's ping-pong is the best of --trials averages. Usage:
//   mpirun -np <cores> cleave-calibrate --output cpu.json [--quick] [--trials N]
//
// Why not one 1024^3 sgemm and 64 MB triad arrays (as before 2026-12-06):
// the models trained on CPU ranks multiply 256 x 64 by 64 x 256 and keep
// tensors of a few hundred KiB, which OpenBLAS runs ~15% below its 1024^3
// rate and the caches serve 2-3 times faster than DRAM; a profile of the
// large sizes predicted the GPT's step too slow (docs/benchmarks.md, "Cost
// model against measured steps").
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
  double minSeconds;   // each timed loop runs at least this long
  int trials;          // best of this many
  size_t streamFloats; // elements of each triad array
  int latencyRounds;   // ping-pong round trips of 8 bytes
  size_t largeMessage; // bytes of the bandwidth ping-pong and the all-reduce
  int largeRounds;     // round trips / all-reduces of the large message
  int collectiveTrials;
  std::vector<size_t> collectiveBytes; // the sizes each library collective is timed at
};

// Triad arrays of 1 MiB: the GPT's activations are 0.25-4 MiB per rank.
const Sizes kFull{0.03,      8, 256u << 10, 2000,
                  16u << 20, 5, 5,          {4u << 10, 32u << 10, 256u << 10, 1u << 20, 4u << 20}};
const Sizes kQuick{0.01, 2, 256u << 10, 200, 1u << 20, 5, 2, {4u << 10, 256u << 10, 1u << 20}};

/// The products (m, k, n) of the models CPU ranks train (models/onnx's
/// gpt_small and mlp, bench/cost_model.py): 256 rows (batch x sequence) by
/// widths from 64 to 512, forward and backward shapes alike.
constexpr int kGemmShapes[][3] = {
    {256, 64, 64}, {256, 64, 256}, {256, 256, 64}, {256, 256, 256}, {512, 512, 512}};

/// The median of `samples` (which it reorders).
double median(std::vector<double> &samples) {
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

/// Runs `body` (one unit of work) repeatedly on all ranks at once for
/// `minSeconds` x `trials`, timing each call; returns the slowest rank's
/// median seconds per call. Each call is timed alone, and the median taken,
/// because other work on the machine preempts a rank for whole scheduler
/// slices: a call that is preempted takes milliseconds longer, the others
/// run at the machine's rate. An average over a long loop (as before
/// 2026-12-06) took the load in, and measured this 2-core machine at a
/// third of its rate while others built (docs/benchmarks.md, "Cost model
/// against measured steps"); the steps' median (step_time_ms) leaves it out.
template <typename Body> double timeAll(double minSeconds, int trials, Body body) {
  std::vector<double> samples;
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  do {
    double before = MPI_Wtime();
    body();
    samples.push_back(MPI_Wtime() - before);
  } while (MPI_Wtime() - start < minSeconds * trials);
  double mine = median(samples), slowest;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

/// timeAll for a collective: every rank must call it equally often, so the
/// count of calls is agreed first (enough for `minSeconds` x `trials` on the
/// slowest rank) instead of each rank looping on its own clock.
template <typename Body> double timeCollective(double minSeconds, int trials, Body body) {
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  body();
  double once = MPI_Wtime() - start, slowest;
  MPI_Allreduce(&once, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  long count =
      std::clamp(long(minSeconds * trials / std::max(slowest, 1e-9)), long(trials), 100000L);
  std::vector<double> samples;
  MPI_Barrier(MPI_COMM_WORLD);
  for (long i = 0; i < count; ++i) {
    double before = MPI_Wtime();
    body();
    samples.push_back(MPI_Wtime() - before);
  }
  double mine = median(samples);
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

/// The median sgemm rate over kGemmShapes: the median, so that neither the
/// smallest product (call overhead) nor the largest sets the peak alone.
double measureSgemm(const Sizes &sizes) {
  std::vector<double> rates;
  for (const auto &shape : kGemmShapes) {
    int m = shape[0], k = shape[1], n = shape[2];
    std::vector<float> a(size_t(m) * k, 1.0f), b(size_t(k) * n, 0.5f), c(size_t(m) * n, 0.0f);
    double seconds = timeAll(sizes.minSeconds, sizes.trials, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(),
                  n, 0.0f, c.data(), n);
    });
    rates.push_back(2.0 * m * k * n / seconds);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

double measureTriad(const Sizes &sizes) {
  size_t n = sizes.streamFloats;
  std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  float scale = 3.0f;
  double seconds = timeAll(sizes.minSeconds, sizes.trials, [&] {
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

/// One library collective as the cost model prices it: seconds = latency +
/// volume / bandwidth, volume the ring formula's bytes each rank sends.
struct Fit {
  double latency = 0;   // s
  double bandwidth = 0; // bytes/s
};

/// Fits latency + volume / bandwidth to measured (volume, seconds) by least
/// squares of the relative error (weights 1/seconds^2), so that the small
/// messages, which are all latency, count as much as the large ones. A
/// latency below 0.1 us (noise can make the intercept negative) is raised
/// to it, and the bandwidth refitted through the points.
Fit fitAlphaBeta(const std::vector<double> &volume, const std::vector<double> &seconds) {
  double sww = 0, swx = 0, swxx = 0, swy = 0, swxy = 0;
  for (size_t i = 0; i < volume.size(); ++i) {
    double w = 1 / (seconds[i] * seconds[i]), x = volume[i], y = seconds[i];
    sww += w, swx += w * x, swxx += w * x * x, swy += w * y, swxy += w * x * y;
  }
  double det = sww * swxx - swx * swx;
  double slope = det > 0 ? (sww * swxy - swx * swy) / det : 0;
  double intercept = det > 0 ? (swy - slope * swx) / sww : seconds.front();
  constexpr double kMinLatency = 1e-7;
  if (intercept < kMinLatency || slope <= 0) {
    intercept = std::max(kMinLatency, std::min(intercept, seconds.front()));
    double num = 0, den = 0; // slope through (0, intercept): least squares, same weights
    for (size_t i = 0; i < volume.size(); ++i) {
      double w = 1 / (seconds[i] * seconds[i]);
      num += w * volume[i] * (seconds[i] - intercept);
      den += w * volume[i] * volume[i];
    }
    slope = den > 0 ? num / den : 0;
  }
  // Noise (a slow small message) can leave no positive slope: then the
  // largest message's average rate is the bandwidth.
  if (slope <= 0) {
    slope = seconds.back() / volume.back();
    intercept = kMinLatency;
  }
  return {intercept, 1 / slope};
}

/// MPI_Allreduce, MPI_Reduce_scatter_block and MPI_Allgather (sum of
/// floats over all ranks) at each of sizes.collectiveBytes, fitted against
/// the ring formula's volume: all-reduce 2 (n-1)/n S of an S-byte buffer,
/// reduce-scatter (n-1)/n S of an S-byte input, all-gather (n-1)/n S of an
/// S-byte result (CollectiveCost.h's table).
struct LibraryCollectives {
  Fit allReduce, reduceScatter, allGather;
};

LibraryCollectives measureLibraryCollectives(const Sizes &sizes, int ranks) {
  double n = ranks;
  std::vector<double> arVolume, arSeconds, rsVolume, rsSeconds, agVolume, agSeconds;
  for (size_t bytes : sizes.collectiveBytes) {
    // A multiple of the rank count, so every rank's block is whole.
    int block = std::max<int>(1, int(bytes / sizeof(float) / ranks));
    int count = block * ranks;
    double total = double(count) * sizeof(float);
    std::vector<float> in(count, 1.0f), out(count);
    arSeconds.push_back(timeCollective(sizes.minSeconds, sizes.collectiveTrials, [&] {
      MPI_Allreduce(in.data(), out.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }));
    arVolume.push_back(2 * (n - 1) / n * total);
    rsSeconds.push_back(timeCollective(sizes.minSeconds, sizes.collectiveTrials, [&] {
      MPI_Reduce_scatter_block(in.data(), out.data(), block, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }));
    rsVolume.push_back((n - 1) / n * total);
    agSeconds.push_back(timeCollective(sizes.minSeconds, sizes.collectiveTrials, [&] {
      MPI_Allgather(in.data(), block, MPI_FLOAT, out.data(), block, MPI_FLOAT, MPI_COMM_WORLD);
    }));
    agVolume.push_back((n - 1) / n * total);
  }
  return {fitAlphaBeta(arVolume, arSeconds), fitAlphaBeta(rsVolume, rsSeconds),
          fitAlphaBeta(agVolume, agSeconds)};
}

llvm::json::Object fitToJSON(const Fit &fit) {
  return llvm::json::Object{{"latency_us", fit.latency * 1e6},
                            {"bandwidth_gb_per_s", fit.bandwidth / 1e9}};
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
  bool quick = false;
  int trials = 0; // 0: the preset's
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) {
      sizes = kQuick;
      quick = true;
    } else if (!std::strcmp(argv[i], "--output") && i + 1 < argc)
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

  // Other work running now slows every measurement: the description says
  // how busy the machine was, so a profile measured under load is known.
  double load[1] = {0};
  if (getloadavg(load, 1) < 1)
    load[0] = -1;

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

  LibraryCollectives library = measureLibraryCollectives(sizes, ranks);

  long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  double memoryBytes = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));

  int status = 0;
  if (rank == 0) {
    std::string description =
        "This machine (" + hostName() + ", " + std::to_string(cores) +
        " cores, 1-minute load average " + llvm::formatv("{0:F1}", load[0]).str() +
        " before) as measured by `mpirun -np " + std::to_string(ranks) + " cleave-calibrate" +
        (quick ? " --quick" : "") + " --trials " + std::to_string(sizes.trials) + "` on " +
        today() +
        ": a device is one MPI rank on one core. Peak = the median rate of single-threaded "
        "OpenBLAS sgemm over the models' product sizes (256 x 64 x 64 to 512^3) with every "
        "rank busy (the CPU has no faster 16-bit units: bf16 and f16 run at the f32 rate); "
        "memory = STREAM triad on " +
        std::to_string(sizes.streamFloats * sizeof(float) >> 10) +
        " KiB arrays (the models' tensor sizes) per rank with every rank busy; link = MPI "
        "ping-pong; collective efficiency = MPI_Allreduce against the ring formula; "
        "collectives = MPI's own, fitted to latency + ring volume / bandwidth; memory = "
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
    llvm::json::Value profile = mlir::cleave::clusterToJSON(measured);
    llvm::json::Object collectives{{"library", "mpi"},
                                   {"all_reduce", fitToJSON(library.allReduce)},
                                   {"reduce_scatter", fitToJSON(library.reduceScatter)},
                                   {"all_gather", fitToJSON(library.allGather)}};
    profile.getAsObject()->try_emplace("collectives", std::move(collectives));
    auto print = [](const llvm::json::Value &value) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << llvm::formatv("{0:2}", value) << "\n";
      return text;
    };
    std::string text = print(profile);
    llvm::StringRef source = output.empty() ? "<stdout>" : output;
    // Check what we wrote with the loader that will read it.
    llvm::Expected<mlir::cleave::Cluster> check = mlir::cleave::parseCluster(text, source);
    if (!check) {
      // A cluster parser from before issue 13 (lane commcost) rejects the
      // `collectives` object: then write the profile without it, which that
      // parser reads, rather than one no cleavec of this build can load.
      std::string error = llvm::toString(check.takeError());
      if (llvm::StringRef(error).contains("'collectives'")) {
        profile.getAsObject()->erase("collectives");
        text = print(profile);
        check = mlir::cleave::parseCluster(text, source);
        if (check)
          llvm::errs() << "cleave-calibrate: warning: this build's cluster parser does not read "
                          "'collectives'; the profile is written without them\n";
        else
          error = llvm::toString(check.takeError());
      }
      if (!check) {
        llvm::errs() << "cleave-calibrate: error: the measured profile does not load: " << error
                     << "\n";
        status = 1;
      }
    }
    if (status != 0) {
      // Nothing written: the error says why.
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
    for (auto [name, fit] : {std::pair{"MPI_Allreduce", library.allReduce},
                             std::pair{"MPI_Reduce_scatter_block", library.reduceScatter},
                             std::pair{"MPI_Allgather", library.allGather}})
      llvm::errs() << llvm::format("%s: %.2f us + ring volume / %.2f GB/s\n", name,
                                   fit.latency * 1e6, fit.bandwidth / 1e9);
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
