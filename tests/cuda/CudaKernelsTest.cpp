//===- CudaKernelsTest.cpp - the CUDA kernels against the CPU kernels ------===//
//
// Every kernel of cuda_kernels.h on random inputs, compared with its CPU
// twin in kernels.h (which tests/runtime/kernels checks against reference
// loops and finite differences). Shapes are picked to reach each launch
// path: warp and block rows, strided lines, split reductions, the generic
// element size, in-place calls. Outputs start as NaN bytes, so an element a
// kernel forgets to write fails the comparison.
//
// Without a visible GPU the binary prints why and exits 77, which ctest
// reports as skipped (SKIP_RETURN_CODE); on a GPU machine it runs for real.
//
//===----------------------------------------------------------------------===//
#define CATCH_CONFIG_RUNNER
#include "KernelTestUtils.h"
#include "WindowParams.h"

#include "cleave/rt/cuda_kernels.h"
#include "cleave/rt/cuda_memory.h"
#include "cleave/rt/kernels.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

using namespace cleave::rt;
using namespace cleave::rt::test;

namespace {

/// Exit status ctest reads as "skipped".
constexpr int kSkip = 77;

/// Relative to the tensor's scale (require_close): sums of a few thousand
/// fp32 terms, added in another order, differ by a few 1e-6.
constexpr double kTolerance = 2e-5;
/// Reductions of up to 300000 terms: the CPU's sequential sums round more.
constexpr double kSumTolerance = 1e-4;

/// A device copy of a host vector, freed at scope exit.
template <typename T> class DeviceArray {
public:
  /// `n` elements of 0xFF bytes: NaN as float, -1 as an integer.
  explicit DeviceArray(size_t n) : size_(n) {
    CLEAVE_CUDA_CHECK(cudaMalloc(&data_, bytes()));
    CLEAVE_CUDA_CHECK(cudaMemset(data_, 0xFF, bytes()));
  }
  explicit DeviceArray(const std::vector<T> &host) : DeviceArray(host.size()) { upload(host); }
  DeviceArray(const DeviceArray &) = delete;
  DeviceArray &operator=(const DeviceArray &) = delete;
  ~DeviceArray() { cudaFree(data_); }

  T *get() const { return data_; }

  void upload(const std::vector<T> &host) {
    REQUIRE(host.size() == size_);
    if (size_ > 0)
      CLEAVE_CUDA_CHECK(cudaMemcpy(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice));
  }

  /// Waits for the kernels before it (cudaMemcpy on the default stream).
  std::vector<T> download() const {
    std::vector<T> host(size_);
    if (size_ > 0)
      CLEAVE_CUDA_CHECK(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

private:
  size_t bytes() const { return std::max<size_t>(size_, 1) * sizeof(T); }
  T *data_ = nullptr;
  size_t size_;
};

std::vector<int64_t> random_int64s(int64_t n, int64_t low, int64_t high) {
  std::vector<int64_t> values(n);
  for (int64_t &v : values)
    v = random_int(low, high);
  return values;
}

std::vector<uint8_t> random_bytes(int64_t n) {
  std::vector<uint8_t> values(n);
  for (uint8_t &v : values)
    v = static_cast<uint8_t>(random_int(0, 255));
  return values;
}

template <typename T>
void require_equal(const std::vector<T> &actual, const std::vector<T> &expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    if (std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0) {
      INFO("element " << i << " of " << actual.size() << " differs");
      REQUIRE(std::memcmp(&actual[i], &expected[i], sizeof(T)) == 0);
    }
}

/// Reads the device flag and clears it for the next call.
int32_t take_flag(DeviceArray<int32_t> &flag) {
  const int32_t value = flag.download()[0];
  flag.upload({0});
  return value;
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

/// Random operands of one matmul call on the host and the device. C starts
/// random when accumulating, NaN otherwise (the kernel must overwrite it).
struct MatmulOperands {
  std::vector<float> a, b, expected;
  int64_t stride_a, stride_b; // 0 where the operand is shared by the batch
  DeviceArray<float> da, db, dc;

  MatmulOperands(int64_t batch, int64_t m, int64_t n, int64_t k, bool share_a, bool share_b,
                 bool accumulate)
      : a(random_floats((share_a ? 1 : batch) * m * k)),
        b(random_floats((share_b ? 1 : batch) * k * n)),
        expected(accumulate ? random_floats(batch * m * n)
                            : std::vector<float>(batch * m * n, NAN)),
        stride_a(share_a ? 0 : m * k), stride_b(share_b ? 0 : k * n), da(a), db(b),
        dc(batch * m * n) {
    if (accumulate)
      dc.upload(expected);
  }
};

void check_matmul(int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool share_a,
                  bool share_b, bool accumulate, double tolerance) {
  INFO("matmul batch " << batch << " m " << m << " n " << n << " k " << k << " ta " << ta << " tb "
                       << tb << " shared " << share_a << share_b << " accumulate " << accumulate);
  MatmulOperands o(batch, m, n, k, share_a, share_b, accumulate);
  cpu::matmul(o.a.data(), o.b.data(), o.expected.data(), batch, m, n, k, ta, tb, o.stride_a,
              o.stride_b, accumulate);
  cuda::matmul(o.da.get(), o.db.get(), o.dc.get(), batch, m, n, k, ta, tb, o.stride_a, o.stride_b,
               accumulate);
  require_close(o.dc.download(), o.expected, tolerance);
}

TEST_CASE("cuda matmul matches the cpu", "[cuda][matmul]") {
  seed(1);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_matmul(3, 17, 33, 65, ta, tb, false, false, false, kTolerance);
      check_matmul(3, 17, 33, 65, ta, tb, true, false, true, kTolerance);
      check_matmul(2, 9, 5, 130, ta, tb, false, true, false, kTolerance);
    }
  check_matmul(1, 256, 384, 512, false, true, false, false, false, kTolerance);
  check_matmul(2, 4, 3, 0, false, false, false, false, false, 0); // empty sum: zeros
  check_matmul(2, 4, 3, 0, false, false, false, false, true, 0);  // leaves C alone
}

TEST_CASE("cuda matmul with TF32 stays close", "[cuda][matmul]") {
  seed(2);
  cuda::set_allow_tf32(true);
  check_matmul(1, 256, 256, 512, false, false, false, false, false, 5e-3);
  cuda::set_allow_tf32(false);
  REQUIRE_FALSE(cuda::allow_tf32());
}

/// matmul_bf16 on both backends: the same rounded operands (bf16.h), exact
/// products, fp32 sums in different orders (tensor cores accumulate in
/// fp32 but may align and truncate partial sums differently), so a little
/// more than kTolerance. A guard band of NaN bytes behind the scratch must
/// survive: the kernel stays inside matmul_bf16_scratch_bytes().
void check_matmul_bf16(int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                       bool share_a, bool share_b, bool accumulate) {
  INFO("matmul_bf16 batch " << batch << " m " << m << " n " << n << " k " << k << " ta " << ta
                            << " tb " << tb << " shared " << share_a << share_b << " accumulate "
                            << accumulate);
  MatmulOperands o(batch, m, n, k, share_a, share_b, accumulate);
  const int64_t cpu_bytes = cpu::matmul_bf16_scratch_bytes(batch, m, n, k, o.stride_a, o.stride_b);
  const int64_t gpu_bytes = cuda::matmul_bf16_scratch_bytes(batch, m, n, k, o.stride_a, o.stride_b);
  std::vector<unsigned char> host_scratch(static_cast<size_t>(cpu_bytes));
  constexpr int64_t kGuard = 1024;
  DeviceArray<uint8_t> scratch(static_cast<size_t>(gpu_bytes + kGuard));
  cpu::matmul_bf16(o.a.data(), o.b.data(), o.expected.data(), batch, m, n, k, ta, tb, o.stride_a,
                   o.stride_b, accumulate, host_scratch.data());
  cuda::matmul_bf16(o.da.get(), o.db.get(), o.dc.get(), batch, m, n, k, ta, tb, o.stride_a,
                    o.stride_b, accumulate, scratch.get());
  require_close(o.dc.download(), o.expected, 5e-5);
  const std::vector<uint8_t> after = scratch.download();
  for (int64_t i = gpu_bytes; i < gpu_bytes + kGuard; ++i)
    REQUIRE(after[static_cast<size_t>(i)] == 0xFF);
}

TEST_CASE("cuda matmul_bf16 matches the cpu's", "[cuda][matmul]") {
  seed(3);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_matmul_bf16(3, 17, 33, 65, ta, tb, false, false, false);
      check_matmul_bf16(3, 17, 33, 65, ta, tb, true, false, true);
      check_matmul_bf16(2, 9, 5, 130, ta, tb, false, true, false);
    }
  check_matmul_bf16(1, 256, 384, 512, false, true, false, false, false);
  check_matmul_bf16(4, 64, 64, 32, false, true, false, false, false); // attention-like
  check_matmul_bf16(2, 4, 3, 0, false, false, false, false, false);   // empty sum: zeros
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

struct ReduceCase {
  std::vector<int64_t> shape, axes;
};

std::vector<ReduceCase> reduce_cases() {
  return {
      {{64, 3000}, {1}},      // long rows: a block per row
      {{300, 40}, {1}},       // short rows: a warp per row
      {{5, 7, 9}, {0, 2}},    // reduced dims on both sides
      {{2000, 96}, {0}},      // columns, split over blocks
      {{300000}, {0}},        // everything into one value, split
      {{7, 200, 33}, {0, 1}}, // columns after merging
      {{4, 1, 6}, {1}},       // a size-1 reduced dimension
      {{2, 3, 4, 5}, {1, 3}},
      {{3, 4}, {}},     // no axes: a copy
      {{3, 0, 4}, {1}}, // empty: the identity
      {{}, {}},         // a scalar
  };
}

template <typename T>
void check_reduce(const ReduceCase &c, cpu::ReduceKind kind, const std::vector<T> &input,
                  double tolerance) {
  INFO("reduce kind " << static_cast<int>(kind) << " rank " << c.shape.size() << " axes "
                      << c.axes.size());
  int64_t outputs = 1;
  for (size_t d = 0; d < c.shape.size(); ++d)
    if (std::find(c.axes.begin(), c.axes.end(), static_cast<int64_t>(d)) == c.axes.end())
      outputs *= c.shape[d];
  std::vector<T> expected(outputs);
  DeviceArray<T> din(input), dout(outputs);
  const int64_t rank = static_cast<int64_t>(c.shape.size());
  cpu::reduce(input.data(), expected.data(), rank, c.shape.data(), c.axes.data(),
              static_cast<int64_t>(c.axes.size()), kind);
  cuda::reduce(din.get(), dout.get(), rank, c.shape.data(), c.axes.data(),
               static_cast<int64_t>(c.axes.size()), kind);
  if constexpr (std::is_floating_point_v<T>)
    require_close(dout.download(), expected, tolerance);
  else
    require_equal(dout.download(), expected);
}

TEST_CASE("cuda reduce matches the cpu", "[cuda][reduce]") {
  seed(3);
  using cpu::ReduceKind;
  for (const ReduceCase &c : reduce_cases()) {
    const int64_t n = product(c.shape);
    for (ReduceKind kind : {ReduceKind::sum, ReduceKind::mean}) {
      // Mostly positive: a sum that cancels to ~0 has no scale to compare to.
      check_reduce<float>(c, kind, random_floats(n, -0.5f, 1.0f), kSumTolerance);
      check_reduce<int64_t>(c, kind, random_int64s(n, -1000, 1000), 0);
    }
    for (ReduceKind kind : {ReduceKind::max, ReduceKind::min}) {
      check_reduce<float>(c, kind, random_floats(n), 0);
      check_reduce<int64_t>(c, kind, random_int64s(n, -1000, 1000), 0);
    }
    // Products near 1 (float) and of +-1 (int64) stay finite.
    check_reduce<float>(c, ReduceKind::prod, random_floats(n, 0.999f, 1.001f), kSumTolerance);
    std::vector<int64_t> signs = random_int64s(n, 0, 1);
    for (int64_t &s : signs)
      s = s ? 1 : -1;
    check_reduce<int64_t>(c, ReduceKind::prod, signs, 0);
  }
}

TEST_CASE("cuda reduce max and min propagate NaN", "[cuda][reduce]") {
  seed(4);
  std::vector<float> input = random_floats(8 * 2000);
  input[3 * 2000 + 1234] = NAN;
  for (cpu::ReduceKind kind : {cpu::ReduceKind::max, cpu::ReduceKind::min}) {
    check_reduce<float>({{8, 2000}, {1}}, kind, input, 0);
    check_reduce<float>({{8, 2000}, {0}}, kind, input, 0);
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

struct Line {
  int64_t outer, n, inner;
};

const Line kLines[] = {{50, 17, 1}, {3, 5000, 1}, {4, 7, 6}, {2, 1, 1}, {0, 5, 1}, {3, 300, 40}};

TEST_CASE("cuda softmax and log_softmax match the cpu", "[cuda][softmax]") {
  seed(5);
  for (const Line &l : kLines)
    for (bool log : {false, true}) {
      INFO("outer " << l.outer << " n " << l.n << " inner " << l.inner << " log " << log);
      const int64_t size = l.outer * l.n * l.inner;
      const std::vector<float> x = random_floats(size, -8.0f, 8.0f);
      std::vector<float> expected(size);
      auto cpu_kernel = log ? cpu::log_softmax : cpu::softmax;
      auto cuda_kernel = log ? cuda::log_softmax : cuda::softmax;
      cpu_kernel(x.data(), expected.data(), l.outer, l.n, l.inner);
      DeviceArray<float> dx(x), dy(size);
      cuda_kernel(dx.get(), dy.get(), l.outer, l.n, l.inner);
      require_close(dy.download(), expected, kTolerance);
      cuda_kernel(dx.get(), dx.get(), l.outer, l.n, l.inner); // in place
      require_close(dx.download(), expected, kTolerance);

      // The gradient from that output.
      const std::vector<float> dout = random_floats(size);
      std::vector<float> grad(size);
      (log ? cpu::log_softmax_grad : cpu::softmax_grad)(expected.data(), dout.data(), grad.data(),
                                                        l.outer, l.n, l.inner);
      DeviceArray<float> dyy(expected), ddout(dout), dgrad(size);
      auto cuda_grad = log ? cuda::log_softmax_grad : cuda::softmax_grad;
      cuda_grad(dyy.get(), ddout.get(), dgrad.get(), l.outer, l.n, l.inner);
      require_close(dgrad.download(), grad, kTolerance);
      cuda_grad(dyy.get(), ddout.get(), ddout.get(), l.outer, l.n, l.inner); // dx aliases dy
      require_close(ddout.download(), grad, kTolerance);
    }
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

TEST_CASE("cuda layer_norm and its gradient match the cpu", "[cuda][norm]") {
  seed(6);
  for (auto [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{37, 50}, {5, 3000}, {3000, 64}, {1, 1}, {0, 8}})
    for (bool with_bias : {true, false}) {
      INFO("rows " << rows << " cols " << cols << " bias " << with_bias);
      const std::vector<float> x = random_floats(rows * cols, -3.0f, 5.0f);
      const std::vector<float> scale = random_floats(cols), bias = random_floats(cols);
      const std::vector<float> dy = random_floats(rows * cols);
      const float eps = 1e-5f;
      std::vector<float> y(rows * cols);
      cpu::layer_norm(x.data(), scale.data(), with_bias ? bias.data() : nullptr, y.data(), rows,
                      cols, eps);
      DeviceArray<float> dx_in(x), dscale_in(scale), dbias_in(bias), dy_out(rows * cols);
      cuda::layer_norm(dx_in.get(), dscale_in.get(), with_bias ? dbias_in.get() : nullptr,
                       dy_out.get(), rows, cols, eps);
      require_close(dy_out.download(), y, kTolerance);

      std::vector<float> dx(rows * cols), dscale(cols), dbias(cols);
      std::vector<uint8_t> scratch(cpu::layer_norm_grad_scratch_bytes(rows) + 1);
      cpu::layer_norm_grad(x.data(), scale.data(), dy.data(), dx.data(), dscale.data(),
                           dbias.data(), rows, cols, eps, scratch.data());
      DeviceArray<float> ddy(dy), ddx(rows * cols), ddscale(cols), ddbias(cols);
      DeviceArray<uint8_t> dscratch(cuda::layer_norm_grad_scratch_bytes(rows) + 1);
      cuda::layer_norm_grad(dx_in.get(), dscale_in.get(), ddy.get(), ddx.get(), ddscale.get(),
                            ddbias.get(), rows, cols, eps, dscratch.get());
      require_close(ddx.download(), dx, kSumTolerance);
      require_close(ddscale.download(), dscale, kSumTolerance);
      require_close(ddbias.download(), dbias, kSumTolerance);
      // Only the parameter gradients, then only dx.
      DeviceArray<float> only_scale(cols), only_dx(rows * cols);
      cuda::layer_norm_grad(dx_in.get(), dscale_in.get(), ddy.get(), nullptr, only_scale.get(),
                            nullptr, rows, cols, eps, dscratch.get());
      require_close(only_scale.download(), dscale, kSumTolerance);
      cuda::layer_norm_grad(dx_in.get(), dscale_in.get(), ddy.get(), only_dx.get(), nullptr,
                            nullptr, rows, cols, eps, dscratch.get());
      require_close(only_dx.download(), dx, kSumTolerance);
    }
}

TEST_CASE("cuda batch_norm and its gradient match the cpu", "[cuda][norm]") {
  seed(7);
  for (auto [batch, channels, spatial] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {4, 3, 25}, {16, 8, 100}, {2, 5, 1}, {8, 2, 4096}}) {
    INFO("batch " << batch << " channels " << channels << " spatial " << spatial);
    const int64_t size = batch * channels * spatial;
    const std::vector<float> x = random_floats(size, -2.0f, 6.0f), dy = random_floats(size);
    const std::vector<float> scale = random_floats(channels), bias = random_floats(channels);
    const std::vector<float> mean = random_floats(channels),
                             var = random_floats(channels, 0.5f, 2.0f);
    const float eps = 1e-5f, momentum = 0.1f;
    std::vector<float> y(size), new_mean(channels), new_var(channels);
    cpu::batch_norm_train(x.data(), scale.data(), bias.data(), mean.data(), var.data(), y.data(),
                          new_mean.data(), new_var.data(), batch, channels, spatial, eps, momentum);
    DeviceArray<float> dx(x), dscale(scale), dbias(bias), dmean(mean), dvar(var), dout(size);
    // Running statistics updated in place, as generated steps do.
    cuda::batch_norm_train(dx.get(), dscale.get(), dbias.get(), dmean.get(), dvar.get(), dout.get(),
                           dmean.get(), dvar.get(), batch, channels, spatial, eps, momentum);
    require_close(dout.download(), y, kTolerance);
    require_close(dmean.download(), new_mean, kTolerance);
    require_close(dvar.download(), new_var, kTolerance);

    std::vector<float> gx(size), gscale(channels), gbias(channels);
    cpu::batch_norm_grad(x.data(), scale.data(), dy.data(), gx.data(), gscale.data(), gbias.data(),
                         batch, channels, spatial, eps);
    DeviceArray<float> ddy(dy), dgx(size), dgscale(channels), dgbias(channels);
    cuda::batch_norm_grad(dx.get(), dscale.get(), ddy.get(), dgx.get(), dgscale.get(), dgbias.get(),
                          batch, channels, spatial, eps);
    require_close(dgx.download(), gx, kTolerance);
    require_close(dgscale.download(), gscale, kTolerance);
    require_close(dgbias.download(), gbias, kTolerance);
  }
}

//===----------------------------------------------------------------------===//
// Gather and scatter-add
//===----------------------------------------------------------------------===//

template <typename Index>
void check_gather(int64_t outer, int64_t axis, int64_t count, int64_t inner, int64_t element_bytes,
                  bool with_invalid) {
  INFO("gather outer " << outer << " axis " << axis << " count " << count << " inner " << inner
                       << " bytes " << element_bytes << " index bytes " << sizeof(Index));
  const std::vector<uint8_t> input = random_bytes(outer * axis * inner * element_bytes);
  std::vector<Index> indices(count);
  for (Index &i : indices)
    i = static_cast<Index>(random_int(-axis, axis - 1)); // negative ones count from the end
  if (with_invalid)
    indices[count / 2] = static_cast<Index>(axis);
  std::vector<uint8_t> expected(outer * count * inner * element_bytes);
  int32_t cpu_flag = 0;
  cpu::gather(input.data(), indices.data(), expected.data(), outer, axis, count, inner,
              element_bytes, &cpu_flag);
  DeviceArray<uint8_t> din(input), dout(expected.size());
  DeviceArray<Index> dindices(indices);
  DeviceArray<int32_t> flag(std::vector<int32_t>{0});
  cuda::gather(din.get(), dindices.get(), dout.get(), outer, axis, count, inner, element_bytes,
               flag.get());
  require_equal(dout.download(), expected);
  REQUIRE(take_flag(flag) == cpu_flag);
  REQUIRE(cpu_flag == (with_invalid ? 1 : 0));
}

TEST_CASE("cuda gather matches the cpu", "[cuda][gather]") {
  seed(8);
  for (bool invalid : {false, true}) {
    check_gather<int64_t>(1, 64, 300, 32, 4, invalid); // token embedding
    check_gather<int32_t>(3, 10, 7, 5, 8, invalid);
    check_gather<int64_t>(2, 9, 11, 1, 1, invalid);
    check_gather<int64_t>(2, 5, 6, 4, 3, invalid); // an odd element size: bytes
  }
}

template <typename Index> void check_scatter_add(bool with_invalid) {
  INFO("scatter_add index bytes " << sizeof(Index) << " invalid " << with_invalid);
  const int64_t outer = 2, axis = 64, count = 300, inner = 32;
  const std::vector<float> updates = random_floats(outer * count * inner);
  std::vector<Index> indices(count);
  for (Index &i : indices)
    i = static_cast<Index>(random_int(-axis, axis - 1)); // many repeats
  if (with_invalid)
    indices[7] = static_cast<Index>(-axis - 1);
  std::vector<float> expected(outer * axis * inner);
  int32_t cpu_flag = 0;
  cpu::scatter_add(updates.data(), indices.data(), expected.data(), outer, axis, count, inner,
                   &cpu_flag);
  DeviceArray<float> dupdates(updates), dout(expected.size());
  DeviceArray<Index> dindices(indices);
  DeviceArray<int32_t> flag(std::vector<int32_t>{0});
  cuda::scatter_add(dupdates.get(), dindices.get(), dout.get(), outer, axis, count, inner,
                    flag.get());
  // atomicAdd sums repeated indices in no fixed order: rounding differs.
  require_close(dout.download(), expected, 1e-6);
  REQUIRE(take_flag(flag) == cpu_flag);
}

TEST_CASE("cuda scatter_add matches the cpu", "[cuda][gather]") {
  seed(9);
  for (bool invalid : {false, true}) {
    check_scatter_add<int64_t>(invalid);
    check_scatter_add<int32_t>(invalid);
  }
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

TEST_CASE("cuda transpose and broadcast match the cpu", "[cuda][layout]") {
  seed(10);
  const std::vector<int64_t> shape = {2, 5, 3, 7};
  const std::vector<std::vector<int64_t>> permutations = {
      {0, 2, 1, 3}, {3, 2, 1, 0}, {0, 1, 3, 2}, {1, 0, 2, 3}, {0, 1, 2, 3}};
  for (int64_t bytes : {int64_t{4}, int64_t{2}, int64_t{8}, int64_t{3}})
    for (const auto &permutation : permutations) {
      INFO("transpose bytes " << bytes);
      const std::vector<uint8_t> input = random_bytes(product(shape) * bytes);
      std::vector<uint8_t> expected(input.size());
      cpu::transpose(input.data(), expected.data(), 4, shape.data(), permutation.data(), bytes);
      DeviceArray<uint8_t> din(input), dout(input.size());
      cuda::transpose(din.get(), dout.get(), 4, shape.data(), permutation.data(), bytes);
      require_equal(dout.download(), expected);
    }
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> broadcasts = {
      {{3, 1, 5}, {2, 3, 4, 5}}, {{5}, {4, 5}}, {{4, 1}, {4, 6}}, {{1}, {3, 3}}, {{}, {2, 2}}};
  for (const auto &[from, to] : broadcasts)
    for (int64_t bytes : {int64_t{4}, int64_t{1}, int64_t{6}}) {
      INFO("broadcast bytes " << bytes);
      const std::vector<uint8_t> input = random_bytes(product(from) * bytes);
      std::vector<uint8_t> expected(product(to) * bytes);
      cpu::broadcast(input.data(), expected.data(), static_cast<int64_t>(from.size()), from.data(),
                     static_cast<int64_t>(to.size()), to.data(), bytes);
      DeviceArray<uint8_t> din(input), dout(expected.size());
      cuda::broadcast(din.get(), dout.get(), static_cast<int64_t>(from.size()), from.data(),
                      static_cast<int64_t>(to.size()), to.data(), bytes);
      require_equal(dout.download(), expected);
    }
}

TEST_CASE("cuda slice, slice_scatter and concat match the cpu", "[cuda][layout]") {
  seed(11);
  const std::vector<int64_t> whole = {4, 9, 10};
  const std::vector<int64_t> starts = {1, 2, 0}, strides = {1, 3, 2}, window = {3, 3, 5};
  for (int64_t bytes : {int64_t{4}, int64_t{8}, int64_t{5}}) {
    INFO("slice bytes " << bytes);
    const std::vector<uint8_t> input = random_bytes(product(whole) * bytes);
    std::vector<uint8_t> expected(product(window) * bytes);
    cpu::slice(input.data(), expected.data(), 3, whole.data(), starts.data(), strides.data(),
               window.data(), bytes);
    DeviceArray<uint8_t> din(input), dout(expected.size());
    cuda::slice(din.get(), dout.get(), 3, whole.data(), starts.data(), strides.data(),
                window.data(), bytes);
    require_equal(dout.download(), expected);

    std::vector<uint8_t> scattered(input.size());
    cpu::slice_scatter(expected.data(), scattered.data(), 3, window.data(), starts.data(),
                       strides.data(), whole.data(), bytes);
    DeviceArray<uint8_t> dscattered(input.size());
    cuda::slice_scatter(dout.get(), dscattered.get(), 3, window.data(), starts.data(),
                        strides.data(), whole.data(), bytes);
    require_equal(dscattered.download(), scattered);
  }
  // Concat along the middle axis of [outer, sizes[t], inner].
  const int64_t outer = 6, inner = 5, bytes = 4;
  const std::vector<int64_t> sizes = {3, 0, 4, 1};
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<std::unique_ptr<DeviceArray<uint8_t>>> device_inputs;
  std::vector<const void *> host_ptrs, device_ptrs;
  int64_t total = 0;
  for (int64_t size : sizes) {
    inputs.push_back(random_bytes(outer * size * inner * bytes));
    device_inputs.push_back(std::make_unique<DeviceArray<uint8_t>>(inputs.back()));
    host_ptrs.push_back(inputs.back().data());
    device_ptrs.push_back(device_inputs.back()->get());
    total += size;
  }
  std::vector<uint8_t> expected(outer * total * inner * bytes);
  cpu::concat(host_ptrs.data(), sizes.data(), 4, expected.data(), outer, inner, bytes);
  DeviceArray<uint8_t> dout(expected.size());
  cuda::concat(device_ptrs.data(), sizes.data(), 4, dout.get(), outer, inner, bytes);
  require_equal(dout.download(), expected);
}

TEST_CASE("cuda iota matches the cpu", "[cuda][layout]") {
  std::vector<int64_t> ints(1000);
  std::vector<float> floats(1000);
  cpu::iota(-7, 3, 1000, ints.data());
  cpu::iota(-7, 3, 1000, floats.data());
  DeviceArray<int64_t> dints(1000);
  DeviceArray<float> dfloats(1000);
  cuda::iota(-7, 3, 1000, dints.get());
  cuda::iota(-7, 3, 1000, dfloats.get());
  require_equal(dints.download(), ints);
  require_equal(dfloats.download(), floats);
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// The cuda side's own output extents agree with the cpu's (conv_params).
void require_cuda_extents(const cpu::Conv2dParams &p) {
  REQUIRE(cuda::window_output_size(p.in_height, p.kernel_height, p.stride_height, p.pad_top,
                                   p.pad_bottom, p.dilation_height, false) == p.out_height);
}

/// Random conv2d operands (input, filter, bias and an output gradient) on
/// the host and the device.
struct ConvOperands {
  std::vector<float> x, filter, bias, dy;
  DeviceArray<float> dx, dfilter, dbias, ddy;

  explicit ConvOperands(const cpu::Conv2dParams &p)
      : x(random_floats(input_count(p))), filter(random_floats(filter_count(p))),
        bias(random_floats(p.out_channels)), dy(random_floats(output_count(p))), dx(x),
        dfilter(filter), dbias(bias), ddy(dy) {}
};

TEST_CASE("cuda conv2d_bf16 and its gradients match the cpu's", "[cuda][conv]") {
  seed(13);
  // Same rounded operands on both (bf16.h), fp32 sums in other orders.
  for (const cpu::Conv2dParams &p :
       {conv_params(2, 3, 7, 6, 4, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1),
        conv_params(1, 4, 6, 7, 6, 2, 3, 1, 2, {0, 1, 1, 0}, 1, 1, 2),
        conv_params(2, 4, 5, 3, 6, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 1)}) {
    require_cuda_extents(p);
    INFO("conv_bf16 " << p.batch << "x" << p.in_channels << "x" << p.in_height << "x" << p.in_width
                      << " filters " << p.out_channels << " groups " << p.groups);
    const int64_t x_size = input_count(p), f_size = filter_count(p), y_size = output_count(p);
    ConvOperands o(p);
    std::vector<float> scratch(cpu::conv2d_bf16_scratch_bytes(p) / sizeof(float) + 1);
    DeviceArray<float> dscratch(cuda::conv2d_bf16_scratch_bytes(p) / sizeof(float) + 1);
    std::vector<float> y(y_size), gx(x_size), gfilter(f_size);
    cpu::conv2d_bf16(o.x.data(), o.filter.data(), o.bias.data(), y.data(), p, scratch.data());
    cpu::conv2d_grad_input_bf16(o.dy.data(), o.filter.data(), gx.data(), p, scratch.data());
    cpu::conv2d_grad_filter_bf16(o.x.data(), o.dy.data(), gfilter.data(), p, scratch.data());
    DeviceArray<float> dy_out(y_size), dgx(x_size), dgfilter(f_size);
    cuda::conv2d_bf16(o.dx.get(), o.dfilter.get(), o.dbias.get(), dy_out.get(), p, dscratch.get());
    cuda::conv2d_grad_input_bf16(o.ddy.get(), o.dfilter.get(), dgx.get(), p, dscratch.get());
    cuda::conv2d_grad_filter_bf16(o.dx.get(), o.ddy.get(), dgfilter.get(), p, dscratch.get());
    require_close(dy_out.download(), y, kTolerance);
    require_close(dgx.download(), gx, kTolerance);
    require_close(dgfilter.download(), gfilter, kTolerance);
  }
}

TEST_CASE("cuda conv2d and its gradients match the cpu", "[cuda][conv]") {
  seed(12);
  const std::vector<cpu::Conv2dParams> cases = {
      conv_params(2, 3, 7, 6, 4, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1),     // "same" 3x3
      conv_params(2, 3, 9, 8, 2, 3, 2, 2, 2, {1, 0, 2, 1}, 2, 1, 1),     // asymmetric, dilated
      conv_params(1, 4, 6, 7, 6, 2, 3, 1, 2, {0, 1, 1, 0}, 1, 1, 2),     // two groups
      conv_params(2, 3, 8, 8, 6, 3, 3, 2, 2, {1, 1, 1, 1}, 1, 1, 3),     // depthwise
      conv_params(2, 4, 5, 3, 6, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, 1),     // pointwise
      conv_params(2, 2, 7, 5, 3, 1, 1, 2, 2, {0, 0, 0, 0}, 1, 1, 1),     // strided 1x1
      conv_params(8, 16, 32, 32, 32, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 1, 1), // the cnn model's size
  };
  for (const cpu::Conv2dParams &p : cases)
    for (bool with_bias : {true, false}) {
      require_cuda_extents(p);
      INFO("conv " << p.batch << "x" << p.in_channels << "x" << p.in_height << "x" << p.in_width
                   << " filters " << p.out_channels << " kernel " << p.kernel_height << "x"
                   << p.kernel_width << " groups " << p.groups << " bias " << with_bias);
      const int64_t x_size = input_count(p), f_size = filter_count(p), y_size = output_count(p);
      ConvOperands o(p);
      std::vector<float> scratch(cpu::conv2d_scratch_bytes(p) / sizeof(float) + 1);
      DeviceArray<float> dscratch(cuda::conv2d_scratch_bytes(p) / sizeof(float) + 1);

      std::vector<float> y(y_size);
      cpu::conv2d(o.x.data(), o.filter.data(), with_bias ? o.bias.data() : nullptr, y.data(), p,
                  scratch.data());
      DeviceArray<float> dout(y_size);
      cuda::conv2d(o.dx.get(), o.dfilter.get(), with_bias ? o.dbias.get() : nullptr, dout.get(), p,
                   dscratch.get());
      require_close(dout.download(), y, kTolerance);
      if (!with_bias)
        continue; // the gradients do not depend on the bias

      std::vector<float> gx(x_size), gfilter(f_size);
      cpu::conv2d_grad_input(o.dy.data(), o.filter.data(), gx.data(), p, scratch.data());
      cpu::conv2d_grad_filter(o.x.data(), o.dy.data(), gfilter.data(), p, scratch.data());
      DeviceArray<float> dgx(x_size), dgfilter(f_size);
      cuda::conv2d_grad_input(o.ddy.get(), o.dfilter.get(), dgx.get(), p, dscratch.get());
      cuda::conv2d_grad_filter(o.dx.get(), o.ddy.get(), dgfilter.get(), p, dscratch.get());
      require_close(dgx.download(), gx, kTolerance);
      require_close(dgfilter.download(), gfilter, kTolerance);
    }
}

TEST_CASE("cuda pool2d and its gradient match the cpu", "[cuda][pool]") {
  seed(13);
  const std::vector<cpu::Pool2dParams> cases =
      pool_option_cases({{2, 2, 7, 6, 3, 3, 2, 2, {1, 1, 1, 1}},
                         {1, 3, 6, 5, 2, 3, 2, 1, {1, 0, 0, 1}},
                         {8, 16, 32, 32, 2, 2, 2, 2, {0, 0, 0, 0}},
                         {2, 3, 9, 9, 3, 3, 1, 1, {1, 1, 1, 1}}}); // the last: overlapping windows
  for (const cpu::Pool2dParams &p : cases) {
    INFO("pool kind " << static_cast<int>(p.kind) << " " << p.in_height << "x" << p.in_width
                      << " ceil " << p.ceil_mode << " include_pad " << p.count_include_pad);
    const int64_t x_size = input_count(p), y_size = output_count(p);
    // Distinct values: one maximum per window, as max pooling's gradient needs.
    const std::vector<float> x = distinct_floats(x_size), dy = random_floats(y_size);
    std::vector<float> y(y_size), gx(x_size);
    cpu::pool2d(x.data(), y.data(), p);
    cpu::pool2d_grad(x.data(), dy.data(), gx.data(), p);
    DeviceArray<float> dx(x), ddy(dy), dout(y_size), dgx(x_size);
    cuda::pool2d(dx.get(), dout.get(), p);
    cuda::pool2d_grad(dx.get(), ddy.get(), dgx.get(), p);
    require_close(dout.download(), y, 1e-6);
    require_close(dgx.download(), gx, 1e-6);
  }
}

//===----------------------------------------------------------------------===//
// Loss and random
//===----------------------------------------------------------------------===//

TEST_CASE("cuda cross_entropy and its gradient match the cpu", "[cuda][loss]") {
  seed(14);
  for (auto [rows, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{13, 10}, {5, 5000}, {512, 64}, {1, 1}})
    for (bool invalid : {false, true}) {
      INFO("rows " << rows << " classes " << classes << " invalid " << invalid);
      const std::vector<float> logits = random_floats(rows * classes, -6.0f, 6.0f);
      std::vector<int64_t> labels = random_int64s(rows, 0, classes - 1);
      if (invalid)
        labels[rows / 2] = classes;
      const std::vector<float> dloss = {0.75f};
      float loss = 0;
      int32_t cpu_flag = 0;
      std::vector<float> grad(rows * classes);
      cpu::cross_entropy(logits.data(), labels.data(), &loss, rows, classes, &cpu_flag);
      cpu::cross_entropy_grad(logits.data(), labels.data(), dloss.data(), grad.data(), rows,
                              classes, &cpu_flag);
      DeviceArray<float> dlogits(logits), ddloss(dloss), dgrad(rows * classes), dloss_out(1);
      DeviceArray<int64_t> dlabels(labels);
      DeviceArray<int32_t> flag(std::vector<int32_t>{0});
      cuda::cross_entropy(dlogits.get(), dlabels.get(), dloss_out.get(), rows, classes, flag.get());
      require_close(dloss_out.download(), std::vector<float>{loss}, kTolerance);
      REQUIRE(take_flag(flag) == cpu_flag);
      cuda::cross_entropy_grad(dlogits.get(), dlabels.get(), ddloss.get(), dgrad.get(), rows,
                               classes, flag.get());
      require_close(dgrad.download(), grad, kTolerance);
      REQUIRE(take_flag(flag) == cpu_flag);
      REQUIRE(cpu_flag == (invalid ? 1 : 0));
    }
}

TEST_CASE("cuda cross_entropy with ignore_index, label smoothing and sum matches the cpu",
          "[cuda][loss]") {
  seed(15);
  for (auto [rows, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{13, 10}, {5, 5000}, {512, 64}})
    for (auto [smoothing, sum] :
         std::vector<std::pair<float, bool>>{{0.1f, false}, {0.25f, true}}) {
      INFO("rows " << rows << " classes " << classes << " smoothing " << smoothing);
      const std::vector<float> logits = random_floats(rows * classes, -6.0f, 6.0f);
      std::vector<int64_t> labels = random_int64s(rows, 0, classes - 1);
      for (int64_t r = 0; r < rows; r += 3)
        labels[r] = -100;
      cpu::CrossEntropyOptions options;
      options.has_ignore_index = true;
      options.label_smoothing = smoothing;
      options.sum = sum;
      const std::vector<float> dloss = {0.75f};
      float loss = 0;
      int32_t cpu_flag = 0;
      std::vector<float> grad(rows * classes);
      cpu::cross_entropy(logits.data(), labels.data(), &loss, rows, classes, &cpu_flag, options);
      cpu::cross_entropy_grad(logits.data(), labels.data(), dloss.data(), grad.data(), rows,
                              classes, &cpu_flag, options);
      REQUIRE(cpu_flag == 0);
      DeviceArray<float> dlogits(logits), ddloss(dloss), dgrad(rows * classes), dloss_out(1);
      DeviceArray<int64_t> dlabels(labels);
      DeviceArray<int32_t> flag(std::vector<int32_t>{0});
      cuda::cross_entropy(dlogits.get(), dlabels.get(), dloss_out.get(), rows, classes, flag.get(),
                          options);
      require_close(dloss_out.download(), std::vector<float>{loss}, kTolerance);
      cuda::cross_entropy_grad(dlogits.get(), dlabels.get(), ddloss.get(), dgrad.get(), rows,
                               classes, flag.get(), options);
      require_close(dgrad.download(), grad, kTolerance);
      REQUIRE(take_flag(flag) == 0);
    }
}

TEST_CASE("cuda bernoulli_mask draws the cpu's mask", "[cuda][random]") {
  for (auto [seed_value, offset, n] : std::vector<std::tuple<uint64_t, uint64_t, int64_t>>{
           {42, 0, 1000}, {0x123456789abcdefull, 5, 1003}, {7, (uint64_t{1} << 40) + 3, 65}}) {
    std::vector<uint8_t> expected(n);
    cpu::bernoulli_mask(seed_value, offset, n, 0.7f, expected.data());
    DeviceArray<uint8_t> dmask(n);
    cuda::bernoulli_mask(seed_value, offset, n, 0.7f, dmask.get());
    require_equal(dmask.download(), expected);
  }
  const uint32_t counter[4] = {1, 2, 3, 4}, key[2] = {0xdeadbeefu, 0x12345678u};
  uint32_t expected[4], actual[4];
  cpu::philox4x32_10(counter, key, expected);
  cuda::philox4x32_10(counter, key, actual);
  REQUIRE(std::equal(actual, actual + 4, expected));
}

//===----------------------------------------------------------------------===//
// Device memory
//===----------------------------------------------------------------------===//

TEST_CASE("cuda device memory is zeroed and copies both ways", "[cuda][memory]") {
  DeviceMemory &memory = cuda::device_memory();
  REQUIRE_FALSE(memory.is_host());
  void *empty = memory.alloc(0);
  void *other = memory.alloc(0);
  REQUIRE(empty != other); // unique even for zero bytes
  const int64_t bytes = 1000 * sizeof(float);
  void *buffer = memory.alloc(bytes);
  REQUIRE(std::string(memory.name()).rfind("cuda:", 0) == 0);
  std::vector<float> host(1000, 1.0f);
  memory.copy_to_host(host.data(), buffer, bytes);
  REQUIRE(host == std::vector<float>(1000, 0.0f));
  const std::vector<float> values = random_floats(1000);
  memory.copy_to_device(buffer, values.data(), bytes);
  memory.copy_to_host(host.data(), buffer, bytes);
  REQUIRE(host == values);
  memory.free(buffer);
  memory.free(other);
  memory.free(empty);
}

} // namespace

int main(int argc, char **argv) {
  int devices = 0;
  const cudaError_t error = cudaGetDeviceCount(&devices);
  if (error != cudaSuccess || devices == 0) {
    std::printf("cleave-cuda-kernel-tests: skipped: no CUDA device visible (%s)\n",
                error != cudaSuccess ? cudaGetErrorString(error) : "0 devices");
    return kSkip;
  }
  cudaDeviceProp properties{};
  CLEAVE_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
  std::printf("cleave-cuda-kernel-tests: %s (sm_%d%d)\n", properties.name, properties.major,
              properties.minor);
  cleave::rt::cuda::select_device();
  return Catch::Session().run(argc, argv);
}
