//===- DemoModel.cpp - hand-written models for the runtime's tests ----------===//
#include "DemoModel.h"

#include "cleave/rt/npy.h"
#include "cleave/rt/rng.h"

#include "onnx/onnx_pb.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace cleave::rt::demo {

const float kTrueWeight[kLinearFeatures] = {1.5f, -2.0f, 0.5f};
const float kTrueBias = 0.25f;

namespace {

const int64_t kXShape[] = {kLinearBatch, kLinearFeatures};
const int64_t kYShape[] = {kLinearBatch, 1};
const int64_t kWeightShape[] = {1, kLinearFeatures};
const int64_t kBiasShape[] = {1};

const TensorSpec kLinearInputs[] = {
    {"x", DType::f32, 2, kXShape},
    {"y", DType::f32, 2, kYShape},
};
const ParamSpec kLinearParams[] = {
    {{"linear.weight", DType::f32, 2, kWeightShape}, ParamKind::trainable},
    {{"linear.bias", DType::f32, 1, kBiasShape}, ParamKind::trainable},
    {{"target_mean", DType::f32, 1, kBiasShape}, ParamKind::buffer},
};
const TensorSpec kLinearOptState[] = {
    {"linear.weight.exp_avg", DType::f32, 2, kWeightShape},
    {"linear.weight.exp_avg_sq", DType::f32, 2, kWeightShape},
    {"linear.bias.exp_avg", DType::f32, 1, kBiasShape},
    {"linear.bias.exp_avg_sq", DType::f32, 1, kBiasShape},
};

constexpr TrainDefaults kLinearDefaults = {OptimizerKind::adamw,    /*lr=*/0.05f,
                                           /*beta1=*/0.9f,          /*beta2=*/0.999f,
                                           /*eps=*/1e-8f,
                                           /*weight_decay=*/0.01f,  /*momentum=*/0.0f,
                                           /*clip_grad_norm=*/0.0f, LrSchedule::constant,
                                           /*warmup_steps=*/0,      /*batch_size=*/kLinearBatch};

int sleep_ms() {
  static const int ms = [] {
    const char *text = std::getenv("CLEAVE_DEMO_STEP_SLEEP_MS");
    return text ? std::atoi(text) : 0;
  }();
  return ms;
}

void adamw(const StepScalars &s, const TrainDefaults &d, float *param, const float *grad,
           float *exp_avg, float *exp_avg_sq, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    exp_avg[i] = d.beta1 * exp_avg[i] + (1 - d.beta1) * grad[i];
    exp_avg_sq[i] = d.beta2 * exp_avg_sq[i] + (1 - d.beta2) * grad[i] * grad[i];
    param[i] -= s.lr * d.weight_decay * param[i];
    float m = exp_avg[i] / s.bias_correction1;
    float v = exp_avg_sq[i] / s.bias_correction2;
    param[i] -= s.lr * m / (std::sqrt(v) + d.eps);
  }
}

void add_initializer(onnx::GraphProto &graph, const std::string &name,
                     const std::vector<int64_t> &dims, const std::vector<float> &values) {
  onnx::TensorProto *tensor = graph.add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims)
    tensor->add_dims(dim);
  tensor->set_raw_data(
      std::string(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(float)));
}

void add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
                    const std::string &name, int32_t type, const std::vector<int64_t> &dims) {
  onnx::ValueInfoProto *info = list->Add();
  info->set_name(name);
  auto *tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(type);
  for (int64_t dim : dims)
    tensor_type->mutable_shape()->add_dim()->set_dim_value(dim);
}

void save(const onnx::ModelProto &model, const std::string &path) {
  std::ofstream out(path, std::ios::binary);
  if (!model.SerializeToOstream(&out))
    throw std::runtime_error("cannot write " + path);
}

onnx::ModelProto empty_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("cleave-runtime-tests");
  model.add_opset_import()->set_version(17);
  return model;
}

} // namespace

ModelInfo linear_model(const char *model_path) {
  return ModelInfo{model_path,
                   kLinearParams,
                   3,
                   kLinearOptState,
                   4,
                   kLinearInputs,
                   2,
                   /*workspace_bytes=*/kLinearBatch * 4,
                   kLinearDefaults,
                   "cpu"};
}

void linear_step(const StepScalars &s, const StepBuffers &b) {
  if (sleep_ms() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms()));
  const float *x = static_cast<const float *>(b.inputs[0]);
  const float *y = static_cast<const float *>(b.inputs[1]);
  float *weight = static_cast<float *>(b.params[0]);
  float *bias = static_cast<float *>(b.params[1]);
  float *target_mean = static_cast<float *>(b.params[2]);
  float *residual = static_cast<float *>(b.workspace); // one per row

  float loss = 0, y_sum = 0;
  for (int64_t i = 0; i < kLinearBatch; ++i) {
    float pred = *bias;
    for (int64_t j = 0; j < kLinearFeatures; ++j)
      pred += x[i * kLinearFeatures + j] * weight[j];
    residual[i] = pred - y[i];
    loss += residual[i] * residual[i];
    y_sum += y[i];
  }
  *b.loss = loss / kLinearBatch;

  float grad_weight[kLinearFeatures] = {};
  float grad_bias = 0;
  for (int64_t i = 0; i < kLinearBatch; ++i) {
    float d = 2 * residual[i] / kLinearBatch;
    for (int64_t j = 0; j < kLinearFeatures; ++j)
      grad_weight[j] += d * x[i * kLinearFeatures + j];
    grad_bias += d;
  }
  float *const *opt = reinterpret_cast<float *const *>(b.opt_state);
  adamw(s, kLinearDefaults, weight, grad_weight, opt[0], opt[1], kLinearFeatures);
  adamw(s, kLinearDefaults, bias, &grad_bias, opt[2], opt[3], 1);
  *target_mean = 0.9f * *target_mean + 0.1f * (y_sum / kLinearBatch);
}

void write_linear_onnx(const std::string &path, const std::vector<float> &weight, float bias,
                       bool with_weights) {
  onnx::ModelProto model = empty_model();
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name("linear");
  add_value_info(graph.mutable_input(), "x", onnx::TensorProto::FLOAT,
                 {kLinearBatch, kLinearFeatures});
  add_value_info(graph.mutable_output(), "pred", onnx::TensorProto::FLOAT, {kLinearBatch, 1});
  onnx::NodeProto *gemm = graph.add_node();
  gemm->set_op_type("Gemm");
  gemm->add_input("x");
  gemm->add_input("linear.weight");
  gemm->add_input("linear.bias");
  gemm->add_output("pred");
  onnx::AttributeProto *trans_b = gemm->add_attribute();
  trans_b->set_name("transB");
  trans_b->set_type(onnx::AttributeProto::INT);
  trans_b->set_i(1);
  if (with_weights) {
    add_initializer(graph, "linear.weight", {1, kLinearFeatures}, weight);
    add_initializer(graph, "linear.bias", {1}, {bias});
    add_initializer(graph, "target_mean", {1}, {0.0f});
  }
  save(model, path);
}

void write_linear_data(const std::string &dir, int64_t rows, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(rows * kLinearFeatures));
  std::vector<float> y(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    float target = kTrueBias + 0.01f * static_cast<float>(rng.normal());
    for (int64_t j = 0; j < kLinearFeatures; ++j) {
      float value = static_cast<float>(rng.normal());
      x[static_cast<size_t>(i * kLinearFeatures + j)] = value;
      target += kTrueWeight[j] * value;
    }
    y[static_cast<size_t>(i)] = target;
  }
  write_npy(dir + "/x.npy", NpyType::f4, {rows, kLinearFeatures}, x.data());
  write_npy(dir + "/y.npy", NpyType::f4, {rows, 1}, y.data());
}

namespace {

const int64_t kTokenShape[] = {kBigramBatch, kBigramContext};
const int64_t kTableShape[] = {kBigramVocab, kBigramVocab};
const TensorSpec kBigramInputs[] = {
    {"idx", DType::i64, 2, kTokenShape},
    {"targets", DType::i64, 2, kTokenShape},
};
const ParamSpec kBigramParams[] = {
    {{"table.weight", DType::f32, 2, kTableShape}, ParamKind::trainable},
};
constexpr TrainDefaults kBigramDefaults = {
    OptimizerKind::sgd,   /*lr=*/1.0f, 0.9f,        0.999f, 1e-8f, 0.0f, 0.0f, 0.0f,
    LrSchedule::constant, 0,           kBigramBatch};

} // namespace

ModelInfo bigram_model(const char *model_path) {
  return ModelInfo{model_path,
                   kBigramParams,
                   1,
                   nullptr,
                   0,
                   kBigramInputs,
                   2,
                   /*workspace_bytes=*/0,
                   kBigramDefaults,
                   "cpu"};
}

void bigram_step(const StepScalars &s, const StepBuffers &b) {
  const int64_t *idx = static_cast<const int64_t *>(b.inputs[0]);
  const int64_t *targets = static_cast<const int64_t *>(b.inputs[1]);
  float *table = static_cast<float *>(b.params[0]);
  constexpr int64_t kRows = kBigramBatch * kBigramContext;
  for (int64_t r = 0; r < kRows; ++r)
    if (idx[r] < 0 || idx[r] >= kBigramVocab || targets[r] < 0 || targets[r] >= kBigramVocab) {
      *b.invalid_index = 1;
      *b.loss = 0;
      return;
    }
  std::vector<float> grad(kBigramVocab * kBigramVocab, 0.0f);
  double loss = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    const float *logits = table + idx[r] * kBigramVocab;
    float largest = logits[0];
    for (int64_t v = 1; v < kBigramVocab; ++v)
      largest = std::max(largest, logits[v]);
    double sum = 0;
    for (int64_t v = 0; v < kBigramVocab; ++v)
      sum += std::exp(logits[v] - largest);
    loss += std::log(sum) + largest - logits[targets[r]];
    for (int64_t v = 0; v < kBigramVocab; ++v) {
      double p = std::exp(logits[v] - largest) / sum;
      grad[static_cast<size_t>(idx[r] * kBigramVocab + v)] +=
          static_cast<float>((p - (v == targets[r] ? 1.0 : 0.0)) / kRows);
    }
  }
  *b.loss = static_cast<float>(loss / kRows);
  for (int64_t i = 0; i < kBigramVocab * kBigramVocab; ++i)
    table[i] -= s.lr * grad[static_cast<size_t>(i)];
}

void write_bigram_onnx(const std::string &path) {
  onnx::ModelProto model = empty_model();
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name("bigram");
  add_value_info(graph.mutable_input(), "idx", onnx::TensorProto::INT64,
                 {kBigramBatch, kBigramContext});
  add_value_info(graph.mutable_output(), "logits", onnx::TensorProto::FLOAT,
                 {kBigramBatch, kBigramContext, kBigramVocab});
  onnx::NodeProto *gather = graph.add_node();
  gather->set_op_type("Gather");
  gather->add_input("table.weight");
  gather->add_input("idx");
  gather->add_output("logits");
  add_initializer(graph, "table.weight", {kBigramVocab, kBigramVocab},
                  std::vector<float>(kBigramVocab * kBigramVocab, 0.0f));
  save(model, path);
}

} // namespace cleave::rt::demo
