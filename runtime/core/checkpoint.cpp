//===- checkpoint.cpp - training checkpoints --------------------------------===//
#include "cleave/rt/checkpoint.h"

#include "cleave/rt/check.h"
#include "file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>
#include <variant>

namespace cleave::rt {

namespace {

constexpr const char *kLatest = "latest";
constexpr const char *kFormatKey = "cleave_checkpoint";
constexpr const char *kFormatVersion = "1";

/// The shortest of %.15g and %.17g that reads back as the same double.
std::string format_float(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  if (std::strtod(text, nullptr) != value)
    std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// Field parsers for from_metadata: each fails with the key's name.
class MetadataReader {
public:
  MetadataReader(const Metadata &metadata, const std::string &path)
      : metadata_(metadata), path_(path) {}

  const std::string &text(const char *key) {
    auto found = metadata_.find(key);
    if (found == metadata_.end())
      fail("checkpoint '", path_, "' lacks the metadata field '", key,
           "'; it was not written by a Cleave executable, or is damaged");
    return found->second;
  }

  int64_t integer(const char *key) {
    const std::string &value = text(key);
    errno = 0;
    char *end = nullptr;
    long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || errno != 0 || *end != '\0')
      bad(key, value);
    return parsed;
  }

  uint64_t unsigned_integer(const char *key) {
    const std::string &value = text(key);
    errno = 0;
    char *end = nullptr;
    unsigned long long parsed = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || value[0] == '-' || errno != 0 || *end != '\0')
      bad(key, value);
    return parsed;
  }

  double real(const char *key) {
    const std::string &value = text(key);
    char *end = nullptr;
    double parsed = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0')
      bad(key, value);
    return parsed;
  }

  bool boolean(const char *key) {
    const std::string &value = text(key);
    if (value != "true" && value != "false")
      bad(key, value);
    return value == "true";
  }

  void read(const char *key, std::string &field) { field = text(key); }
  void read(const char *key, int64_t &field) { field = integer(key); }
  void read(const char *key, uint64_t &field) { field = unsigned_integer(key); }
  void read(const char *key, double &field) { field = real(key); }
  void read(const char *key, bool &field) { field = boolean(key); }

private:
  [[noreturn]] void bad(const char *key, const std::string &value) {
    fail("checkpoint '", path_, "' has a malformed metadata field ", key, " = '", value, "'");
  }

  const Metadata &metadata_;
  const std::string &path_;
};

/// CheckpointMeta's fields as metadata keys, in the order they are read.
using MetaField =
    std::variant<int64_t CheckpointMeta::*, uint64_t CheckpointMeta::*,
                 std::string CheckpointMeta::*, double CheckpointMeta::*, bool CheckpointMeta::*>;
const std::pair<const char *, MetaField> kMetaFields[] = {
    {"step", &CheckpointMeta::step},
    {"model", &CheckpointMeta::model},
    {"optimizer", &CheckpointMeta::optimizer},
    {"seed", &CheckpointMeta::seed},
    {"data_position", &CheckpointMeta::data_position},
    {"data", &CheckpointMeta::data},
    {"data_samples", &CheckpointMeta::data_samples},
    {"shuffle", &CheckpointMeta::shuffle},
    {"steps", &CheckpointMeta::steps},
    {"lr", &CheckpointMeta::lr},
    {"min_lr", &CheckpointMeta::min_lr},
    {"schedule", &CheckpointMeta::schedule},
    {"warmup", &CheckpointMeta::warmup}};

std::string format_field(int64_t value) { return std::to_string(value); }
std::string format_field(uint64_t value) { return std::to_string(value); }
std::string format_field(const std::string &value) { return value; }
std::string format_field(double value) { return format_float(value); }
std::string format_field(bool value) { return value ? "true" : "false"; }

std::string read_latest(const std::string &dir) {
  std::string latest = join_path(dir, kLatest);
  if (!std::filesystem::exists(latest))
    fail("no checkpoint to resume from: '", latest,
         "' does not exist (run without --resume to start at step 0)");
  std::string name = read_text_file(latest);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' '))
    name.pop_back();
  if (name.empty() || name.find('/') != std::string::npos)
    fail("'", latest, "' is damaged: it should hold a checkpoint file name, not '", name, "'");
  return join_path(dir, name);
}

} // namespace

Metadata to_metadata(const CheckpointMeta &meta) {
  Metadata metadata{{kFormatKey, kFormatVersion}};
  for (const auto &[key, field] : kMetaFields)
    std::visit([&, key = key](auto member) { metadata.emplace(key, format_field(meta.*member)); },
               field);
  return metadata;
}

CheckpointMeta from_metadata(const Metadata &metadata, const std::string &path) {
  MetadataReader read(metadata, path);
  if (read.text(kFormatKey) != kFormatVersion)
    fail("checkpoint '", path, "' has format version ", read.text(kFormatKey),
         "; this runtime reads version ", kFormatVersion);
  CheckpointMeta meta;
  for (const auto &[key, field] : kMetaFields)
    std::visit([&, key = key](auto member) { read.read(key, meta.*member); }, field);
  if (meta.step < 0 || meta.data_position < 0)
    fail("checkpoint '", path, "' has a negative step or data position");
  return meta;
}

std::string checkpoint_file_name(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "ckpt-%08lld.safetensors", static_cast<long long>(step));
  return name;
}

std::vector<const TensorSpec *> checkpoint_specs(const ModelInfo &model) {
  std::vector<const TensorSpec *> specs;
  for (int32_t i = 0; i < model.num_params; ++i)
    specs.push_back(&model.params[i].tensor);
  for (int32_t i = 0; i < model.num_opt_state; ++i)
    specs.push_back(&model.opt_state[i]);
  std::set<std::string> names;
  for (const TensorSpec *spec : specs)
    CLEAVE_CHECK(names.insert(spec->name).second, "tensor name '", spec->name,
                 "' appears twice among the model's parameters and optimizer state");
  return specs;
}

std::string write_checkpoint_temp(const std::string &dir, const CheckpointMeta &meta,
                                  const std::vector<BoundTensor> &tensors, DeviceMemory &memory) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    fail("cannot create checkpoint directory '", dir, "': ", error.message());

  std::vector<SafetensorsEntry> entries;
  for (const BoundTensor &tensor : tensors)
    entries.push_back({tensor.spec->name, tensor.spec->dtype, shape_of(*tensor.spec), 0, 0});
  SafetensorsWriter writer(join_path(dir, checkpoint_file_name(meta.step)), std::move(entries),
                           to_metadata(meta));
  std::vector<uint8_t> staging;
  for (const BoundTensor &tensor : tensors) {
    if (memory.is_host()) {
      writer.write_next(tensor.data);
      continue;
    }
    staging.resize(static_cast<size_t>(byte_size(*tensor.spec)));
    memory.copy_to_host(staging.data(), tensor.data, byte_size(*tensor.spec));
    writer.write_next(staging.data());
  }
  return writer.finish_temp();
}

std::string publish_checkpoint(const std::string &dir, int64_t step) {
  std::string name = checkpoint_file_name(step);
  std::string path = join_path(dir, name);
  publish_file(path + ".tmp", path);
  AtomicFileWriter latest(join_path(dir, kLatest));
  latest.write(name + "\n");
  latest.commit();
  return path;
}

std::string write_checkpoint(const std::string &dir, const CheckpointMeta &meta,
                             const std::vector<BoundTensor> &tensors, DeviceMemory &memory) {
  write_checkpoint_temp(dir, meta, tensors, memory);
  return publish_checkpoint(dir, meta.step);
}

std::string resolve_checkpoint(const std::string &resume_path, const std::string &checkpoint_dir) {
  if (resume_path.empty()) {
    if (checkpoint_dir.empty())
      fail("--resume without a path needs --checkpoint-dir, the directory to resume from");
    return read_latest(checkpoint_dir);
  }
  if (std::filesystem::is_directory(resume_path))
    return read_latest(resume_path);
  return resume_path;
}

bool has_checkpoints(const std::string &dir) {
  return std::filesystem::exists(join_path(dir, kLatest));
}

Checkpoint::Checkpoint(const std::string &path)
    : file_(path), meta_(from_metadata(file_.metadata(), path)) {}

void Checkpoint::verify(const std::vector<const TensorSpec *> &specs) const {
  std::set<std::string> expected;
  for (const TensorSpec *spec : specs) {
    expected.insert(spec->name);
    const SafetensorsEntry *entry = file_.find(spec->name);
    if (!entry)
      fail("checkpoint '", path(), "' does not fit this model: it has no tensor '", spec->name,
           "' (", type_string(*spec), ")");
    if (entry->dtype != spec->dtype || entry->shape != shape_of(*spec))
      fail("checkpoint '", path(), "' does not fit this model: tensor '", spec->name, "' is ",
           dtype_name(entry->dtype), shape_string(entry->shape),
           " in the checkpoint but the model has ", type_string(*spec));
  }
  for (const SafetensorsEntry &entry : file_.entries())
    if (!expected.count(entry.name))
      fail("checkpoint '", path(), "' does not fit this model: it has tensor '", entry.name,
           "', which the model does not");
}

void Checkpoint::load(const std::vector<BoundTensor> &tensors, DeviceMemory &memory) const {
  std::vector<uint8_t> staging;
  for (const BoundTensor &tensor : tensors) {
    const SafetensorsEntry *entry = file_.find(tensor.spec->name);
    CLEAVE_CHECK(entry, "Checkpoint::load before verify");
    if (memory.is_host()) {
      file_.read(*entry, tensor.data);
      continue;
    }
    staging.resize(static_cast<size_t>(entry->end - entry->begin));
    file_.read(*entry, staging.data());
    memory.copy_to_device(tensor.data, staging.data(), entry->end - entry->begin);
  }
}

} // namespace cleave::rt
