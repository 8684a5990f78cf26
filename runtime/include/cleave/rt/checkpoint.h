//===- checkpoint.h - training checkpoints ----------------------------------===//
//
// A checkpoint is one safetensors file (safetensors.h) holding every
// parameter (trainable and buffers, ModelInfo::params order) and every
// optimizer state tensor (ModelInfo::opt_state order) in full, plus
// __metadata__ strings (CheckpointMeta) that let a resumed run continue
// exactly where the checkpoint was taken. The file records a CRC-32C of
// every tensor and of its header (safetensors.h), checked on load.
//
// In a checkpoint directory:
//   ckpt-<step, 8 digits>.safetensors   one per checkpoint, never rewritten
//   latest                              the file name of the newest one
// Both are replaced atomically: written as "<name>.tmp", fsync'd, renamed,
// and the directory fsync'd. A writer killed at any point leaves `latest`
// naming the previous complete checkpoint; its ".tmp" is ignored.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CHECKPOINT_H
#define CLEAVE_RT_CHECKPOINT_H

#include "cleave/rt/device_memory.h"
#include "cleave/rt/model.h"
#include "cleave/rt/safetensors.h"
#include "cleave/rt/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cleave::rt {

/// The __metadata__ of a checkpoint. Every field is stored as a string
/// under its own name, plus "cleave_checkpoint": "1" (the format version).
struct CheckpointMeta {
  int64_t step = 0;          // steps completed when it was taken
  std::string model;         // the model's name (the ONNX file's stem)
  std::string optimizer;     // "adamw", "sgd"
  uint64_t seed = 0;         // --seed: shuffling and --init random
  int64_t data_position = 0; // samples consumed (BatchIterator::position)
  std::string data;          // what was bound (SampleSource::describe)
  int64_t data_samples = 0;  // samples per epoch of that data
  bool shuffle = false;      // --shuffle
  // The run's schedule; a resumed run with different values warns.
  int64_t steps = 0;    // --steps
  double lr = 0;        // --lr
  double min_lr = 0;    // --min-lr
  std::string schedule; // --schedule
  int64_t warmup = 0;   // --warmup
};

Metadata to_metadata(const CheckpointMeta &meta);
/// Error naming `path` when a field is missing or malformed.
CheckpointMeta from_metadata(const Metadata &metadata, const std::string &path);

/// "ckpt-00000012.safetensors".
std::string checkpoint_file_name(int64_t step);

/// The tensors a checkpoint holds, in file order: parameters, then
/// optimizer state. Each name must appear once (checked).
std::vector<const TensorSpec *> checkpoint_specs(const ModelInfo &model);

/// Writes <dir>/ckpt-<step>.safetensors and points <dir>/latest at it,
/// both atomically; creates `dir` if needed. `tensors` are in
/// checkpoint_specs order, in `memory`. Returns the checkpoint's path.
std::string write_checkpoint(const std::string &dir, const CheckpointMeta &meta,
                             const std::vector<BoundTensor> &tensors, DeviceMemory &memory);

/// The two halves of write_checkpoint. The first leaves the complete,
/// fsync'd "<dir>/ckpt-<step>.safetensors.tmp" and returns its path — the
/// state of a writer killed before its rename; the second renames it and
/// updates `latest`, returning the checkpoint's path.
std::string write_checkpoint_temp(const std::string &dir, const CheckpointMeta &meta,
                                  const std::vector<BoundTensor> &tensors, DeviceMemory &memory);
std::string publish_checkpoint(const std::string &dir, int64_t step);

/// The checkpoint `--resume [PATH]` means: with no PATH, the one
/// <checkpoint_dir>/latest names; a PATH that is a directory, the one its
/// `latest` names; otherwise PATH itself. Error when there is none.
std::string resolve_checkpoint(const std::string &resume_path, const std::string &checkpoint_dir);

/// True when `dir` has a `latest` file, i.e. holds a previous run.
bool has_checkpoints(const std::string &dir);

/// An opened, validated checkpoint.
class Checkpoint {
public:
  /// Error for a missing, truncated or corrupt file or missing metadata.
  explicit Checkpoint(const std::string &path);

  const std::string &path() const { return file_.path(); }
  const CheckpointMeta &meta() const { return meta_; }
  /// False for a checkpoint written before checksums (safetensors.h): it
  /// loads, unverified.
  bool has_checksums() const { return file_.has_checksums(); }

  /// Error, naming the first tensor that differs, unless the file holds
  /// exactly `specs` with their dtypes and shapes.
  void verify(const std::vector<const TensorSpec *> &specs) const;
  /// Reads every tensor into its memory, checking each one's checksum
  /// (Error naming the file, the tensor and both checksums). Call verify
  /// first.
  void load(const std::vector<BoundTensor> &tensors, DeviceMemory &memory) const;

private:
  SafetensorsFile file_;
  CheckpointMeta meta_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_CHECKPOINT_H
