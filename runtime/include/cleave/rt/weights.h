//===- weights.h - initial parameter values --------------------------------===//
//
// Parameters start either from the ONNX file the model was compiled from
// (--init onnx, the default) or from a fixed random rule (--init random,
// for models exported without weights, e.g. shapes-only GPT graphs).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_WEIGHTS_H
#define CLEAVE_RT_WEIGHTS_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <memory>
#include <string>

namespace cleave::rt {

enum class WeightInit { onnx, random };

/// Reads parameter values by initializer name from an ONNX file. The
/// ModelProto is parsed once; initializers with external data are read
/// straight from their data files (location, offset, length relative to
/// the model's directory) into the destination, so a model's weights pass
/// through memory once.
class WeightReader {
public:
  /// Parses `model_path`; Error when it is missing or not an ONNX model.
  explicit WeightReader(const std::string &model_path);
  ~WeightReader();
  WeightReader(const WeightReader &) = delete;
  WeightReader &operator=(const WeightReader &) = delete;

  /// Copies the initializer named spec.name into `dst` (byte_size(spec)
  /// bytes of host memory). Its data may be raw_data, the typed field of
  /// its type (float_data, double_data, int32_data, int64_data; float16 and
  /// bfloat16 as bit patterns in int32_data) or external. Error, naming the
  /// initializer, when it is missing, its dtype or shape differs from
  /// `spec`, its data has the wrong size, or an external file is missing or
  /// too short.
  void read(const TensorSpec &spec, void *dst);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes the --init random value of parameter number `index` into `dst`
/// (host memory). The rule, which needs nothing but the name and shape:
///   - integer tensors: zeros;
///   - rank >= 2 (matrices, embeddings, convolution kernels): N(0, 0.02),
///     from Rng(derive_seed(seed, RngStream::init, index)), element by
///     element in C order;
///   - rank <= 1 whose name ends in "weight" or "running_var" (LayerNorm
///     and BatchNorm scales, BatchNorm running variance): ones;
///   - any other rank <= 1 tensor (biases, running means): zeros.
void init_random(const TensorSpec &spec, uint64_t seed, int64_t index, void *dst);

} // namespace cleave::rt

#endif // CLEAVE_RT_WEIGHTS_H
