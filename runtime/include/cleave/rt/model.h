//===- model.h - the contract between generated code and the runtime ------===//
//
// cleavec emits one C++ (or CUDA C++) file per model: a ModelInfo table that
// describes the train step's parameters, optimizer state and batch inputs,
// and a step function. The runtime's training loop (run_training) does everything
// else: command line, loading the initial weights from the ONNX file, data,
// the step loop, learning-rate schedule, checkpoints, metrics, ONNX export.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_MODEL_H
#define CLEAVE_RT_MODEL_H

#include <cstdint>

namespace cleave::rt {

enum class DType : int32_t { f32, f64, f16, bf16, i64, i32, i8, i1 };

/// Bytes per element (i1 is stored as one byte).
int64_t dtype_bytes(DType dtype);
const char *dtype_name(DType dtype);

struct TensorSpec {
  const char *name; // ONNX name: initializer for parameters, graph input for data
  DType dtype;
  int32_t rank;
  const int64_t *shape; // row-major, `rank` entries
};

enum class ParamKind : int32_t {
  trainable, // updated by the optimizer from its gradient
  buffer,    // never trained: updated only by a forward that writes it
             // (BatchNorm running statistics); frozen tensors are never updated
};

struct ParamSpec {
  TensorSpec tensor;
  ParamKind kind;
};

enum class OptimizerKind : int32_t { sgd, adamw };
enum class LrSchedule : int32_t { constant, cosine };

/// Training hyper-parameters chosen at compile time; the executable's own
/// command line may override the ones marked so. Double, as torch.optim
/// keeps them: the host derives per-step scalars from them (StepScalars)
/// and only the results are rounded to float.
struct TrainDefaults {
  OptimizerKind optimizer;
  double lr; // overridable: --lr
  double beta1, beta2, eps, weight_decay, momentum;
  double clip_grad_norm; // <= 0: no clipping
  LrSchedule schedule;   // overridable: --schedule
  int64_t warmup_steps;  // overridable: --warmup
  int64_t batch_size;    // rows of every data input per step (dimension 0)
};

/// Per-step values the driver computes on the host and passes in. Each
/// is computed in double from double hyper-parameters and rounded to
/// float once, as torch.optim's Python scalars meet float tensors.
struct StepScalars {
  int64_t step;           // 1-based step number
  float lr;               // after the schedule
  float bias_correction1; // AdamW: 1 - beta1^step
  float bias_correction2; // AdamW: 1 - beta2^step
  uint64_t seed;          // --seed: keys the dropout masks (with step)
  // AdamW, as torch.optim.AdamW computes them (appended so that older
  // brace initialisers of the fields above still compile):
  float step_size;             // lr / (1 - beta1^step)
  float bias_correction2_sqrt; // sqrt(1 - beta2^step)
  float decay_factor;          // 1 - lr * weight_decay
};

/// Pointers the step function reads and updates. Parameters, buffers and
/// optimizer state are updated in place. Tensor pointers are host pointers
/// for the CPU target and device pointers for the CUDA target; `loss` is a
/// host pointer on every target; `invalid_index` is host memory for the CPU
/// target and device memory for the CUDA target (the CUDA run_training
/// copies it back and reports it after each step).
struct StepBuffers {
  void *const *params;       // ModelInfo::params order (trainable and buffers)
  void *const *opt_state;    // ModelInfo::opt_state order
  const void *const *inputs; // ModelInfo::inputs order, one batch each
  float *loss;               // one float, written by the step
  void *workspace;           // ModelInfo::workspace_bytes, reused every step
  /// int32 the step sets to 1 when data holds an out-of-range index
  /// (a token id >= the vocabulary, a label >= the class count); the
  /// driver checks it after each step and stops with a clear message.
  int32_t *invalid_index;
  /// Functions other than a train step (a forward pass compiled as a
  /// library): one pointer per result marked cleave.output, in order.
  void *const *outputs;
  /// Programs compiled for a device grid: the communicators the step's
  /// collectives use (a cleave::rt::CommGroups, collectives.h); null on one
  /// device.
  void *collectives;
};

using StepFunction = void (*)(const StepScalars &, const StepBuffers &);

struct ModelInfo {
  const char *model_path; // ONNX file holding the initial weights
  const ParamSpec *params;
  int32_t num_params;
  /// Optimizer state tensors: for each trainable parameter in order, the
  /// slots the optimizer keeps (AdamW: exp_avg then exp_avg_sq; SGD with
  /// momentum: momentum_buffer; plain SGD: none). Names are
  /// "<param>.<slot>", zero-initialised.
  const TensorSpec *opt_state;
  int32_t num_opt_state;
  const TensorSpec *inputs; // data inputs and labels, dimension 0 = batch
  int32_t num_inputs;
  int64_t workspace_bytes; // from the buffer plan
  TrainDefaults defaults;
  const char *target; // "cpu" or "cuda"
  /// Programs compiled for a device grid (distribution.h): the grid
  /// ("dp=2,tp=2"; null or "" for one device) and, per tensor of each table
  /// above, how it is split ("dp,-"; "" for whole). TensorSpec shapes stay
  /// global: the driver loads, checkpoints and exports whole tensors and
  /// hands the step each rank's block.
  const char *grid;
  const char *const *param_shardings;
  const char *const *opt_state_shardings;
  const char *const *input_shardings;
  /// The loss of the model in evaluation semantics (dropout off, BatchNorm
  /// from running statistics) on one batch of the inputs above: reads
  /// params and inputs, writes loss, updates nothing. Null when the
  /// program was compiled without one. Shares the workspace.
  StepFunction eval_step;
};

/// Called first by generated main(): settles process-wide settings that
/// must precede any library's initialisation (OpenMP's wait policy), by
/// re-executing the program once if needed.
void prepare_process(char **argv);

// The entry points generated main() calls, one per backend, each defined
// only in its backend's library: a program linked with another backend's
// runtime fails to link instead of training on the wrong memory. Each
// parses the executable's command line and trains (training_loop.h);
// returns the process exit code; never aborts on bad input. The multi-rank
// twins are in collectives.h and cuda_collectives.h.

namespace cpu {
/// Host memory (library cleave_rt_cpu, cpu_training.cpp).
int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step);
} // namespace cpu

namespace cuda {
/// The GPU's memory (library cleave_rt_cuda, cuda_training.cpp).
int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step);
} // namespace cuda

} // namespace cleave::rt

#endif // CLEAVE_RT_MODEL_H
