//===- DemoModel.h - hand-written models for the runtime's tests ------------===//
//
// Two models written the way cleavec's generated code will be: a ModelInfo
// table and a StepFunction.
//
//  linear:  pred = x . linear.weight^T + linear.bias, MSE loss, AdamW, and a
//           buffer `target_mean` the step updates (a running mean of y),
//           so checkpoints carry parameters, buffers and optimizer state.
//           Inputs x float32[4, 3], y float32[4, 1].
//  bigram:  logits = table.weight[idx], cross-entropy with the next token,
//           plain SGD; inputs idx, targets int64[2, 4], vocabulary 8.
//           Sets invalid_index for ids outside the vocabulary.
//
// CLEAVE_DEMO_STEP_SLEEP_MS in the environment makes every linear step
// sleep that long, so that a test can kill a run in the middle.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_TESTS_RUNTIME_DEMO_MODEL_H
#define CLEAVE_TESTS_RUNTIME_DEMO_MODEL_H

#include "cleave/rt/model.h"

#include <string>
#include <vector>

namespace cleave::rt::demo {

constexpr int64_t kLinearBatch = 4;
constexpr int64_t kLinearFeatures = 3;

ModelInfo linear_model(const char *model_path);
void linear_step(const StepScalars &scalars, const StepBuffers &buffers);

/// The weights of the true line the data follows, and its bias.
extern const float kTrueWeight[kLinearFeatures];
extern const float kTrueBias;

/// Writes an ONNX file for the linear model (Gemm graph) whose initializers
/// are `weight` (1x3), `bias` (1) and target_mean 0. With `with_weights`
/// false the graph has no initializers, like a model exported without them.
void write_linear_onnx(const std::string &path, const std::vector<float> &weight, float bias,
                       bool with_weights = true);

/// `rows` samples of the true line plus a little noise: x.npy float32
/// [rows, 3] and y.npy float32 [rows, 1] in `dir`.
void write_linear_data(const std::string &dir, int64_t rows, uint64_t seed = 1);

constexpr int64_t kBigramVocab = 8;
constexpr int64_t kBigramBatch = 2;
constexpr int64_t kBigramContext = 4;

ModelInfo bigram_model(const char *model_path);
void bigram_step(const StepScalars &scalars, const StepBuffers &buffers);

/// An ONNX file with table.weight (8x8) all zeros.
void write_bigram_onnx(const std::string &path);

} // namespace cleave::rt::demo

#endif // CLEAVE_TESTS_RUNTIME_DEMO_MODEL_H
