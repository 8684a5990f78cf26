//===- training_loop.h - the training loop behind the entry points --------===//
//
// Each backend's entry point (cpu::run_training, cuda::run_training in
// model.h) = parse_command_line + train with the backend's DeviceMemory,
// through the run_training overload below. The pieces are public so that
// tests drive them without a process, and so that a backend plugs in its
// memory without a training loop of its own.
//
// Both targets hand the step host pointers for StepBuffers::loss and
// StepBuffers::invalid_index; everything else is in the target's memory.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_TRAINING_LOOP_H
#define CLEAVE_RT_TRAINING_LOOP_H

#include "cleave/rt/check.h"
#include "cleave/rt/data.h"
#include "cleave/rt/device_memory.h"
#include "cleave/rt/model.h"
#include "cleave/rt/weights.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace cleave::rt {

/// Everything the command line decides. Defaults come from the model's
/// TrainDefaults (default_config).
struct TrainConfig {
  std::vector<DataBinding> data; // --data NAME=FILE.npy, one per data input
  std::string tokens;            // --tokens FILE: token stream for [B, T] id/label inputs
  int64_t steps = 0;             // --steps: train up to this step number (required)
  uint64_t seed = 0;             // --seed: shuffling and --init random
  double lr = 0;                 // --lr: peak learning rate
  LrSchedule schedule = LrSchedule::constant; // --schedule constant|cosine
  int64_t warmup_steps = 0;                   // --warmup: linear warmup steps
  double min_lr = 0;                          // --min-lr: where the cosine schedule ends
  std::string checkpoint_dir;                 // --checkpoint-dir: where checkpoints go ("" = none)
  int64_t checkpoint_every =
      0;                    // --checkpoint-every: steps between checkpoints (0 = at the end only)
  bool resume = false;      // --resume was given
  std::string resume_path;  // --resume PATH; "" = --checkpoint-dir's latest
  std::string metrics_path; // --metrics: JSON lines, one per step ("" = none)
  std::string save_onnx;    // --save-onnx: trained model as ONNX ("" = none)
  WeightInit init = WeightInit::onnx; // --init onnx|random
  bool shuffle = false;               // --shuffle: new sample order every epoch
  int64_t log_every = 10;             // --log-every: progress line period (0 = quiet)
  int threads = 0;                    // --threads: OpenMP/OpenBLAS threads (0 = their default)
  std::vector<DataBinding> eval_data; // --eval-data NAME=FILE.npy: held-out data, as --data
  std::string eval_tokens;            // --eval-tokens FILE: held-out token stream, as --tokens
  int64_t eval_every = 0;   // --eval-every: steps between evaluations (0 = at the end only)
  int64_t eval_batches = 0; // --eval-batches: batches per evaluation (0 = the whole set)
};

/// A command-line mistake (run_training exits 2 for these, 1 for others).
class UsageError : public Error {
public:
  using Error::Error;
};

TrainConfig default_config(const ModelInfo &model);

/// Parses argv (argv[0] is the program). Returns nullopt after printing
/// --help to stdout; throws UsageError for a bad command line.
std::optional<TrainConfig> parse_command_line(int argc, char **argv, const ModelInfo &model);

/// Trains as `config` says: loads the data, initial weights or a
/// checkpoint, runs the steps, writes metrics, checkpoints and the ONNX
/// export. Progress goes to `log`. Throws Error for anything the user can
/// fix, including a loss that becomes NaN or infinite.
/// With a Distribution (a program compiled for a device grid), every rank
/// calls train; each holds its blocks of the tensors, rank 0 alone prints,
/// writes metrics, checkpoints (whole tensors) and the ONNX export.
void train(const TrainConfig &config, const ModelInfo &model, StepFunction step,
           DeviceMemory &memory, std::FILE *log = stdout,
           class Distribution *distribution = nullptr);

/// run_training with the memory of a given target: prints
/// "<program>: error: <message>" on failure. Returns 0 on success (and
/// after --help), 2 for a bad command line, 1 for any other error.
int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step,
                 DeviceMemory &memory);

/// argv[0] without its directory ("train" when there is none), for
/// "<program>: error: ..." lines.
std::string program_name(int argc, char **argv);

/// "the model was compiled for target '<model.target>', but this executable
/// was linked with <runtime>" when the model names a target other than
/// `target`; "" when it matches. Every entry point refuses such a model.
std::string wrong_target(const ModelInfo &model, const char *target, const char *runtime);

} // namespace cleave::rt

#endif // CLEAVE_RT_TRAINING_LOOP_H
