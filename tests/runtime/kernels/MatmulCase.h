//===- MatmulCase.h - one batched matmul call and its naive reference -----===//
//
// matmul and matmul_bf16 take the same arguments and are checked against
// the same triple loop (bf16 rounds its operands first); MatmulTest.cpp and
// MatmulBf16Test.cpp share the case and the reference from here.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_RUNTIME_KERNELS_MATMULCASE_H
#define CLEAVE_TESTS_RUNTIME_KERNELS_MATMULCASE_H

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace cleave::rt::test {

struct MatmulCase {
  int64_t batch, m, n, k;
  bool transpose_a, transpose_b;
  int64_t stride_a, stride_b; // in matrices: 0 broadcasts, 1 steps
  bool accumulate;

  int64_t a_count() const { return (stride_a ? batch : 1) * m * k; }
  int64_t b_count() const { return (stride_b ? batch : 1) * k * n; }
  /// The kernels' batch strides, in elements.
  int64_t a_stride() const { return stride_a * m * k; }
  int64_t b_stride() const { return stride_b * k * n; }

  /// For INFO: every field, so that a failure names its case.
  std::string describe() const {
    std::ostringstream out;
    out << "batch " << batch << " m " << m << " n " << n << " k " << k << " transpose "
        << transpose_a << transpose_b << " strides " << stride_a << stride_b << " accumulate "
        << accumulate;
    return out.str();
  }
};

/// `base` with each of the four combinations of transpose_a and transpose_b.
inline std::vector<MatmulCase> every_transpose(MatmulCase base) {
  std::vector<MatmulCase> cases;
  for (bool transpose_a : {false, true})
    for (bool transpose_b : {false, true}) {
      base.transpose_a = transpose_a;
      base.transpose_b = transpose_b;
      cases.push_back(base);
    }
  return cases;
}

/// C (+)= op(A) op(B) in double; every operand goes through `round` first
/// (the identity for fp32, round_to_bf16 for bf16).
template <typename Round>
std::vector<double> reference_matmul(const std::vector<float> &a, const std::vector<float> &b,
                                     const std::vector<float> &c, const MatmulCase &t,
                                     Round round) {
  std::vector<double> result(t.batch * t.m * t.n);
  for (int64_t e = 0; e < t.batch; ++e) {
    const float *A = a.data() + e * t.a_stride();
    const float *B = b.data() + e * t.b_stride();
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) {
        double sum = t.accumulate ? c[(e * t.m + i) * t.n + j] : 0.0;
        for (int64_t p = 0; p < t.k; ++p) {
          const float av = t.transpose_a ? A[p * t.m + i] : A[i * t.k + p];
          const float bv = t.transpose_b ? B[j * t.k + p] : B[p * t.n + j];
          sum += static_cast<double>(round(av)) * round(bv);
        }
        result[(e * t.m + i) * t.n + j] = sum;
      }
  }
  return result;
}

/// The fp32 reference: operands as they are.
inline std::vector<double> reference_matmul(const std::vector<float> &a,
                                            const std::vector<float> &b,
                                            const std::vector<float> &c, const MatmulCase &t) {
  return reference_matmul(a, b, c, t, [](float v) { return v; });
}

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_RUNTIME_KERNELS_MATMULCASE_H
