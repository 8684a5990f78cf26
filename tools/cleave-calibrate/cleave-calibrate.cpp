//===- cleave-calibrate.cpp - measure this machine into a cluster profile -===//
//
// Writes the `cpu` cluster profile (docs/cluster.md) from measurements on
// the machine it runs on. Every rank is one device, as in a generated CPU
// program launched with mpirun; all ranks measure at once, so the rates
// include the sharing of caches and memory that real runs see:
//   1. compute: the runtime's matmul (OpenBLAS sgemm, one thread) on the
//      products of the models a CPU rank trains (rows = batch x sequence of
//      a few hundred, widths 64 to 256, operands transposed as in the
//      backward, the attention's batched ones): their FLOPs over their time;
//   2. memory: the rate the runtime's memory-bound kernels (transpose,
//      softmax, layer norm, column sum, and a STREAM triad a = b + s * c
//      for the fused elementwise loops) reach on tensors of those models'
//      sizes, as bytes the cost model counts over their time;
//   3. link: MPI ping-pong between ranks 0 and 1 (latency = half the round
//      trip of an 8-byte message; bandwidth = a large message over half its
//      round trip less that latency);
//   4. collective efficiency: MPI_Allreduce over all ranks against the ring
//      formula's prediction from (3);
//   5. the MPI library's own collectives (MPI_Iallreduce,
//      MPI_Ireduce_scatter_block, MPI_Iallgather, as the runtime runs them) at several sizes, each
//      fitted to latency + volume / bandwidth with the ring formula's volume
//      (the profile's `collectives` object).
// The measured rates are rates real kernels reach, so both efficiencies
// are 1. Every time is the best window's median of many calls each timed
// alone (timeAll), which leaves out the calls other work on the machine
// preempted; the link's ping-pong is the best of --trials averages. Usage:
//   mpirun -np <cores> cleave-calibrate --output cpu.json [--quick] [--trials N]
//
// Why not one 1024^3 sgemm and 64 MB triad arrays (as before 2026-12-06):
// the models trained on CPU ranks multiply 256 x 64 by 64 x 256 and keep
// tensors of a few hundred KiB, which OpenBLAS runs ~15% below its 1024^3
// rate, the caches serve faster than DRAM and the runtime's kernels (not a
// streaming loop) touch; and those one-loop averages took in the load of
// whoever else was on the machine (docs/benchmarks.md, "Cost model
// against measured steps").
//
//===----------------------------------------------------------------------===//
#include "passes/Analysis/Cluster/Cluster.h"

#include "cleave/rt/kernels.h"
#include "cleave/rt/threads.h"

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
const Sizes kQuick{0.01, 4, 256u << 10, 200, 1u << 20, 5, 2, {4u << 10, 256u << 10, 1u << 20}};

/// The products of the models CPU ranks train (models/onnx's gpt_small, as
/// bench/cost_model.py runs it): batch x m x k x n and which operand is read
/// transposed, forward (nn) and backward (nt: dX = dY W^T, tn: dW = X^T dY)
/// alike, and the attention's batched 64 x 16 x 64 products.
struct Product {
  int64_t batch, m, k, n;
  bool transposeA, transposeB;
};
constexpr Product kProducts[] = {{1, 256, 64, 192, false, false}, {1, 256, 192, 64, false, true},
                                 {1, 64, 256, 192, true, false},  {1, 256, 64, 256, false, false},
                                 {1, 256, 256, 64, false, true},  {1, 256, 256, 64, false, false},
                                 {1, 256, 64, 256, false, true},  {16, 64, 16, 64, false, false},
                                 {16, 64, 64, 16, false, false},  {1, 256, 64, 256, false, false}};

/// The median of `samples` (which it reorders).
double median(std::vector<double> &samples) {
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

/// Runs `body` (one unit of work) repeatedly on all ranks at once in
/// `trials` windows of `minSeconds`, timing each call; returns the slowest
/// rank's best window median, in seconds per call. Each call is timed
/// alone, and the median taken, because other work on the machine preempts
/// a rank for whole scheduler slices: a call that is preempted takes
/// milliseconds longer, the others run at the machine's rate; the best of
/// several windows leaves out one where the rank shared its core the whole
/// time. An average over a long loop (as before 2026-12-06) took the load
/// in, and measured this 2-core machine at a third of its rate while others
/// built (docs/benchmarks.md, "Cost model against measured steps"); the
/// steps' median (step_time_ms) leaves it out.
template <typename Body> double timeAll(double minSeconds, int trials, Body body) {
  double best = 1e30;
  std::vector<double> samples;
  for (int trial = 0; trial < trials; ++trial) {
    samples.clear();
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    do {
      double before = MPI_Wtime();
      body();
      samples.push_back(MPI_Wtime() - before);
    } while (MPI_Wtime() - start < minSeconds);
    best = std::min(best, median(samples));
  }
  double slowest;
  MPI_Allreduce(&best, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
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

/// The rate of the runtime's own matmul (OpenBLAS sgemm, one thread) over
/// kProducts: their FLOPs over their summed time. Transposed operands and
/// the attention's small batched products run well below a square sgemm's
/// rate, and the step runs those.
double measureMatmul(const Sizes &sizes) {
  double flops = 0, seconds = 0;
  for (const Product &p : kProducts) {
    std::vector<float> a(size_t(p.batch * p.m * p.k), 1.0f), b(size_t(p.batch * p.k * p.n), 0.5f),
        c(size_t(p.batch * p.m * p.n));
    seconds += timeAll(sizes.minSeconds, sizes.trials, [&] {
      cleave::rt::cpu::matmul(a.data(), b.data(), c.data(), p.batch, p.m, p.n, p.k, p.transposeA,
                              p.transposeB, p.m * p.k, p.k * p.n, false);
    });
    flops += 2.0 * p.batch * p.m * p.k * p.n;
  }
  return flops / seconds;
}

/// The rate the runtime's memory-bound kernels reach at the models' tensor
/// sizes (256 rows of 256 floats, 256 KiB, as the GPT's activations): the
/// bytes the cost model counts for them (every operand and result once)
/// over their time, summed over one call of each: the attention heads'
/// transpose, a softmax and its gradient, a layer norm, a bias gradient's
/// column sum, and the triad standing for a fused elementwise loop. These,
/// not one streaming loop, are what the roofline's memory side prices: on
/// this machine they reach half the triad's rate (transposes stride,
/// reductions and softmax make passes over each row).
double measureKernels(const Sizes &sizes, std::string &rates) {
  namespace rt = cleave::rt::cpu;
  constexpr int64_t kRows = 256, kCols = 256, kElements = kRows * kCols;
  std::vector<float> x(kElements, 0.5f), y(kElements), dy(kElements, 0.25f), scale(kCols, 1.0f),
      bias(kCols, 0.0f), column(kCols);
  const double tensor = kElements * sizeof(float);
  double seconds = 0, bytes = 0;
  auto add = [&](const char *name, double traffic, auto body) {
    double time = timeAll(sizes.minSeconds, sizes.trials, body);
    seconds += time;
    bytes += traffic;
    rates += llvm::formatv("{0}{1} {2:F1}", rates.empty() ? "" : ", ", name, traffic / time / 1e9);
  };
  // [batch 4, seq 64, heads 4, 64] -> [4, 4, 64, 64]
  const int64_t heads[] = {4, 64, 4, 64}, permutation[] = {0, 2, 1, 3};
  add("transpose", 2 * tensor,
      [&] { rt::transpose(x.data(), y.data(), 4, heads, permutation, 4); });
  add("softmax", 2 * tensor, [&] { rt::softmax(x.data(), y.data(), kRows * 4, kCols / 4, 1); });
  add("softmax_grad", 3 * tensor,
      [&] { rt::softmax_grad(x.data(), dy.data(), y.data(), kRows * 4, kCols / 4, 1); });
  add("layer_norm", 2 * tensor + 2 * kCols * sizeof(float),
      [&] { rt::layer_norm(x.data(), scale.data(), bias.data(), y.data(), kRows, kCols, 1e-5f); });
  const int64_t shape[] = {kRows, kCols}, axis[] = {0};
  add("column sum", tensor + kCols * sizeof(float),
      [&] { rt::reduce(x.data(), column.data(), 2, shape, axis, 1, rt::ReduceKind::sum); });
  {
    size_t n = sizes.streamFloats;
    std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
    add("triad", 3.0 * n * sizeof(float), [&] {
      float *__restrict pa = a.data();
      const float *__restrict pb = b.data();
      const float *__restrict pc = c.data();
      for (size_t i = 0; i < n; ++i)
        pa[i] = pb[i] + 3.0f * pc[i];
    });
    volatile float sink = a[n / 2];
    (void)sink;
  }
  return bytes / seconds;
}

/// Seconds a runtime kernel call costs beyond its work: the median of a
/// layer norm and a transpose on one element each (argument checks, the
/// OpenMP region, the call), the floor under every library call and fused
/// loop of a step (the profile's device.kernel_launch_us).
double measureCallOverhead(const Sizes &sizes) {
  namespace rt = cleave::rt::cpu;
  float x[1] = {1}, y[1], scale[1] = {1}, bias[1] = {0};
  const int64_t shape[] = {1, 1}, permutation[] = {1, 0};
  double norm = timeAll(sizes.minSeconds, sizes.trials,
                        [&] { rt::layer_norm(x, scale, bias, y, 1, 1, 1e-5f); });
  double transpose = timeAll(sizes.minSeconds, sizes.trials,
                             [&] { rt::transpose(x, y, 2, shape, permutation, 4); });
  return (norm + transpose) / 2;
}

/// Seconds a kernel costs per call beyond its share of the batch: the
/// intercept of its time against the batch rows, from the GPT's products
/// and a layer norm at their full and a quarter of their rows (one of 4
/// micro-batches), (4 t(quarter) - t(full)) / 3, averaged; at least
/// `callOverhead`. A step of M micro-batches pays it M times per kernel;
/// the call overhead alone (0.25 us here) leaves out what smaller products
/// lose in OpenBLAS (packing, edge kernels): gpt_small on one rank measured
/// ~0.3 ms more per extra micro-batch, ~1 us for each of its ~300 kernels
/// (docs/benchmarks.md).
double measureMicroBatchCost(const Sizes &sizes, double callOverhead) {
  auto product = [&](Product p) {
    std::vector<float> a(size_t(p.batch * p.m * p.k), 1.0f), b(size_t(p.batch * p.k * p.n), 0.5f),
        c(size_t(p.batch * p.m * p.n));
    return timeAll(sizes.minSeconds, sizes.trials, [&] {
      cleave::rt::cpu::matmul(a.data(), b.data(), c.data(), p.batch, p.m, p.n, p.k, p.transposeA,
                              p.transposeB, p.m * p.k, p.k * p.n, false);
    });
  };
  double sum = 0;
  int count = 0;
  for (const Product &full : kProducts) {
    // The batch's rows: the batch of the attention's products, the
    // contraction of a weight gradient's (transposed A), else A's rows.
    Product quarter = full;
    if (full.batch > 1)
      quarter.batch /= 4;
    else if (full.transposeA)
      quarter.k /= 4;
    else
      quarter.m /= 4;
    sum += (4 * product(quarter) - product(full)) / 3;
    ++count;
  }
  constexpr int64_t kCols = 256;
  std::vector<float> x(256 * kCols, 0.5f), y(x.size()), scale(kCols, 1.0f), bias(kCols, 0.0f);
  auto norm = [&](int64_t rows) {
    return timeAll(sizes.minSeconds, sizes.trials, [&] {
      cleave::rt::cpu::layer_norm(x.data(), scale.data(), bias.data(), y.data(), rows, kCols,
                                  1e-5f);
    });
  };
  sum += (4 * norm(64) - norm(256)) / 3;
  ++count;
  return std::max(callOverhead, sum / count);
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

/// MPI_Iallreduce, MPI_Ireduce_scatter_block and MPI_Iallgather (sum of
/// floats over all ranks), each waited at once, at each of
/// sizes.collectiveBytes: the non-blocking forms, because they are what the
/// runtime calls under the library order (runtime/comm/
/// mpi_library_collectives.cpp), and Open MPI runs them with other
/// algorithms than the blocking ones (libnbc, up to 2x slower for large
/// buffers here: docs/benchmarks.md). Fitted against
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
      MPI_Request request;
      MPI_Iallreduce(in.data(), out.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
      MPI_Wait(&request, MPI_STATUS_IGNORE);
    }));
    arVolume.push_back(2 * (n - 1) / n * total);
    rsSeconds.push_back(timeCollective(sizes.minSeconds, sizes.collectiveTrials, [&] {
      MPI_Request request;
      MPI_Ireduce_scatter_block(in.data(), out.data(), block, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                                &request);
      MPI_Wait(&request, MPI_STATUS_IGNORE);
    }));
    rsVolume.push_back((n - 1) / n * total);
    agSeconds.push_back(timeCollective(sizes.minSeconds, sizes.collectiveTrials, [&] {
      MPI_Request request;
      MPI_Iallgather(in.data(), block, MPI_FLOAT, out.data(), block, MPI_FLOAT, MPI_COMM_WORLD,
                     &request);
      MPI_Wait(&request, MPI_STATUS_IGNORE);
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
  cleave::rt::set_thread_count(1);
  double flops = measureMatmul(sizes);
  double meanFlops;
  MPI_Allreduce(&flops, &meanFlops, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  meanFlops /= ranks;
  std::string kernelRates;
  double memoryBandwidth = measureKernels(sizes, kernelRates);
  double meanBandwidth;
  MPI_Allreduce(&memoryBandwidth, &meanBandwidth, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  meanBandwidth /= ranks;

  double callOverhead = measureCallOverhead(sizes);
  double kernelLaunch = measureMicroBatchCost(sizes, callOverhead);

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
        ": a device is one MPI rank on one core. Peak = the runtime's matmul (single-threaded "
        "OpenBLAS sgemm) on the GPT's products (256 x 64 x 192 to 256 x 256 x 64, transposed "
        "as in the backward, batched 64 x 16 x 64), their FLOPs over their time, with every "
        "rank busy (the CPU has no faster 16-bit units: bf16 and f16 run at the f32 rate); "
        "memory = the bytes over the time of the runtime's memory-bound kernels (transpose, "
        "softmax and its gradient, layer norm, column sum, a triad) on the models' tensor "
        "sizes (256 KiB, 1 MiB triad arrays) per rank with every rank busy; link = MPI "
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
    measured.kernelLaunch = kernelLaunch;
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
    std::string source = output.empty() ? std::string("<stdout>") : output;
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
    llvm::errs() << llvm::format(
        "matmul %.1f GFLOP/s per rank, memory-bound kernels %.1f GB/s per rank, "
        "link %.2f us / %.2f GB/s, all-reduce efficiency %.2f\n",
        meanFlops / 1e9, meanBandwidth / 1e9, latency * 1e6, linkBandwidth / 1e9,
        collectiveEfficiency);
    llvm::errs() << "memory-bound kernels on rank 0 (GB/s): " << kernelRates << "\n";
    llvm::errs() << llvm::format("kernel call overhead %.2f us, fixed cost per kernel and "
                                 "micro-batch %.2f us (device.kernel_launch_us)\n",
                                 callOverhead * 1e6, kernelLaunch * 1e6);
    for (auto [name, fit] : {std::pair{"MPI_Iallreduce", library.allReduce},
                             std::pair{"MPI_Ireduce_scatter_block", library.reduceScatter},
                             std::pair{"MPI_Iallgather", library.allGather}})
      llvm::errs() << llvm::format("%s: %.2f us + ring volume / %.2f GB/s\n", name,
                                   fit.latency * 1e6, fit.bandwidth / 1e9);
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
