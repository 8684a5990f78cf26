//===- training_loop.cpp - the training loop -------------------------------===//
//
// train():
//  1. check the ModelInfo the code generator wrote;
//  2. open and verify the checkpoint to resume from, if any, then bind the
//     data (both before anything heavy, so a mistake fails fast);
//  3. allocate parameters, optimizer state, one batch per input and the
//     workspace in the target's memory;
//  4. fill parameters from the checkpoint, the ONNX file or --init random
//     (optimizer state starts zero, as DeviceMemory::alloc returns it);
//  5. per step: schedule scalars, next batch, step(), loss and index
//     checks, metrics, progress, periodic checkpoint;
//  6. final checkpoint and ONNX export.
// A resumed run restores the step counter and the data position; shuffle
// orders and the schedule are pure functions of (seed, epoch) and step, so
// later steps see exactly what an uninterrupted run would.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/training_loop.h"

#include "model_state.h"
#include "stage_timing.h"

#include "cleave/rt/checkpoint.h"
#include "cleave/rt/distribution.h"
#include "cleave/rt/metrics.h"
#include "cleave/rt/onnx_export.h"
#include "cleave/rt/schedule.h"
#include "cleave/rt/tensor.h"
#include "cleave/rt/threads.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>

namespace cleave::rt {

namespace {

void check_spec(const TensorSpec &spec, const char *what) {
  CLEAVE_CHECK(spec.name && *spec.name, what, " tensor without a name");
  CLEAVE_CHECK(spec.rank >= 0 && (spec.rank == 0 || spec.shape), what, " '", spec.name,
               "' has a bad rank or no shape");
  for (int32_t d = 0; d < spec.rank; ++d)
    CLEAVE_CHECK(spec.shape[d] >= 0, what, " '", spec.name, "' has a negative dimension");
}

/// The ModelInfo comes from the code generator; a violation is its bug.
void check_model(const ModelInfo &model) {
  CLEAVE_CHECK(model.model_path && model.target, "ModelInfo without model_path or target");
  CLEAVE_CHECK(model.num_params >= 0 && (model.num_params == 0 || model.params),
               "ModelInfo params");
  CLEAVE_CHECK(model.num_opt_state >= 0 && (model.num_opt_state == 0 || model.opt_state),
               "ModelInfo opt_state");
  CLEAVE_CHECK(model.num_inputs >= 0 && (model.num_inputs == 0 || model.inputs),
               "ModelInfo inputs");
  CLEAVE_CHECK(model.workspace_bytes >= 0, "negative workspace_bytes");
  CLEAVE_CHECK(model.defaults.batch_size >= 1, "batch_size ", model.defaults.batch_size);
  for (int32_t i = 0; i < model.num_params; ++i)
    check_spec(model.params[i].tensor, "parameter");
  for (int32_t i = 0; i < model.num_opt_state; ++i)
    check_spec(model.opt_state[i], "optimizer state");
  checkpoint_specs(model); // checks that parameter and optimizer state names are unique
  for (int32_t i = 0; i < model.num_inputs; ++i) {
    check_spec(model.inputs[i], "input");
    CLEAVE_CHECK(model.inputs[i].rank >= 1 && model.inputs[i].shape[0] == model.defaults.batch_size,
                 "input '", model.inputs[i].name, "' has dimension 0 ",
                 model.inputs[i].rank ? model.inputs[i].shape[0] : 0, ", not the batch size ",
                 model.defaults.batch_size);
  }
}

/// "gpt_toy" for "models/onnx/gpt_toy.onnx".
std::string model_name(const ModelInfo &model) {
  std::string name = model.model_path;
  size_t slash = name.find_last_of('/');
  if (slash != std::string::npos)
    name = name.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".onnx") == 0)
    name.resize(name.size() - 5);
  return name;
}

void warn(std::FILE *log, const std::string &message) {
  std::fflush(log);
  std::fprintf(stderr, "warning: %s\n", message.c_str());
}

/// A resumed run should normally repeat the interrupted run's settings;
/// say which ones differ, since each changes what the later steps compute.
void compare_with_checkpoint(const TrainConfig &config, const CheckpointMeta &meta,
                             const SampleSource &source, const ModelInfo &model, std::FILE *log) {
  auto differs = [&](const char *flag, const std::string &now, const std::string &then) {
    if (now != then)
      warn(log, std::string("resuming with ") + flag + " " + now +
                    ", but the checkpoint's run had " + then +
                    "; later steps differ from an uninterrupted run");
  };
  auto real = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", value);
    return std::string(text);
  };
  differs("--steps", std::to_string(config.steps), std::to_string(meta.steps));
  differs("--lr", real(config.lr), real(meta.lr));
  differs("--min-lr", real(config.min_lr), real(meta.min_lr));
  differs("--schedule", schedule_name(config.schedule), meta.schedule);
  differs("--warmup", std::to_string(config.warmup_steps), std::to_string(meta.warmup));
  differs("--seed", std::to_string(config.seed), std::to_string(meta.seed));
  differs("--shuffle", config.shuffle ? "on" : "off", meta.shuffle ? "on" : "off");
  if (source.num_samples() != meta.data_samples)
    warn(log, "the data has " + std::to_string(source.num_samples()) +
                  " samples per epoch, the checkpoint's run had " +
                  std::to_string(meta.data_samples) + " (" + meta.data + ")");
  if (meta.model != model_name(model))
    warn(log, "the checkpoint was written by model '" + meta.model + "', this is '" +
                  model_name(model) + "' (its tensors match)");
}

/// The checkpoint `--resume` names, verified against the model; or none,
/// after making sure a fresh run will not overwrite an earlier run's.
std::optional<Checkpoint> open_resume_checkpoint(const TrainConfig &config,
                                                 const ModelInfo &model) {
  if (!config.resume) {
    if (!config.checkpoint_dir.empty() && has_checkpoints(config.checkpoint_dir))
      fail("'", config.checkpoint_dir,
           "' already holds checkpoints of an earlier run; pass "
           "--resume to continue it, or choose another --checkpoint-dir");
    return std::nullopt;
  }
  std::optional<Checkpoint> checkpoint;
  checkpoint.emplace(resolve_checkpoint(config.resume_path, config.checkpoint_dir));
  checkpoint->verify(checkpoint_specs(model));
  if (checkpoint->meta().optimizer != optimizer_name(model.defaults.optimizer))
    fail("checkpoint '", checkpoint->path(), "' was written by a run with optimizer ",
         checkpoint->meta().optimizer, "; this model trains with ",
         optimizer_name(model.defaults.optimizer));
  return checkpoint;
}

/// What a checkpoint taken after `step` records besides the tensors.
CheckpointMeta checkpoint_meta(const TrainConfig &config, const ModelInfo &model,
                               const BatchIterator &batches, int64_t step) {
  CheckpointMeta meta;
  meta.step = step;
  meta.model = model_name(model);
  meta.optimizer = optimizer_name(model.defaults.optimizer);
  meta.seed = config.seed;
  meta.data_position = batches.position();
  meta.data = batches.source().describe();
  meta.data_samples = batches.source().num_samples();
  meta.shuffle = config.shuffle;
  meta.steps = config.steps;
  meta.lr = config.lr;
  meta.min_lr = config.min_lr;
  meta.schedule = schedule_name(config.schedule);
  meta.warmup = config.warmup_steps;
  return meta;
}

} // namespace

void train(const TrainConfig &config, const ModelInfo &model, StepFunction step,
           DeviceMemory &memory, std::FILE *log, Distribution *distribution) {
  check_model(model);
  // Rank 0 alone speaks and writes files; every rank computes.
  bool leader = !distribution || distribution->rank() == 0;
  bool verbose = config.log_every > 0 && leader;
  if (config.threads > 0 && set_thread_count(config.threads) == 0)
    warn(log, "--threads has no effect: this executable uses neither OpenMP nor OpenBLAS");

  std::optional<Checkpoint> checkpoint = open_resume_checkpoint(config, model);

  std::unique_ptr<SampleSource> source = config.tokens.empty()
                                             ? open_arrays(model, config.data)
                                             : open_token_stream(model, config.tokens);
  // Every rank would warn alike: rank 0 speaks for them.
  if (checkpoint && leader)
    compare_with_checkpoint(config, checkpoint->meta(), *source, model, log);
  if (checkpoint && !checkpoint->has_checksums() && leader)
    std::fprintf(log,
                 "note: checkpoint %s has no checksums (written before they were "
                 "recorded): its tensors load unverified\n",
                 checkpoint->path().c_str());
  // Held-out data, always read from its start in file order, so that
  // every evaluation sees the same batches.
  std::optional<BatchIterator> eval_batches;
  int64_t eval_batch_count = 0;
  if (!config.eval_data.empty() || !config.eval_tokens.empty()) {
    eval_batches.emplace(config.eval_tokens.empty()
                             ? open_arrays(model, config.eval_data, "--eval-data")
                             : open_token_stream(model, config.eval_tokens),
                         model.defaults.batch_size, false, 0);
    eval_batch_count = config.eval_batches > 0
                           ? config.eval_batches
                           : eval_batches->source().num_samples() / model.defaults.batch_size;
  }

  LocalSpecs local(model, distribution);
  ModelState state(model, local, memory);
  int64_t start_step = 0;
  BatchIterator batches(std::move(source), model.defaults.batch_size, config.shuffle, config.seed);
  if (checkpoint) {
    if (distribution)
      load_sharded_checkpoint(*checkpoint, model, local, state, memory, *distribution);
    else
      checkpoint->load(state.checkpoint_tensors(model), memory);
    start_step = checkpoint->meta().step;
    batches.seek(checkpoint->meta().data_position);
  } else {
    initialize_params(config, model, local, state, memory, distribution);
  }

  if (verbose) {
    std::fprintf(
        log, "model %s: %d parameter tensors, optimizer %s, batch %lld, target %s (%s memory)\n",
        model_name(model).c_str(), model.num_params, optimizer_name(model.defaults.optimizer),
        static_cast<long long>(model.defaults.batch_size), model.target, memory.name());
    std::fprintf(log, "data: %s%s\n", batches.source().describe().c_str(),
                 config.shuffle ? ", shuffled" : "");
    if (eval_batches)
      std::fprintf(
          log, "eval data: %s, %lld batches %s\n", eval_batches->source().describe().c_str(),
          static_cast<long long>(eval_batch_count),
          config.eval_every > 0 ? ("every " + std::to_string(config.eval_every) + " steps").c_str()
                                : "after the last step");
    if (distribution)
      std::fprintf(log, "devices: %d ranks on grid %s\n", distribution->size(), model.grid);
    if (checkpoint)
      std::fprintf(log, "resumed from %s at step %lld\n", checkpoint->path().c_str(),
                   static_cast<long long>(start_step));
    std::fflush(log);
  }

  // Host-side batch buffers: the device's own when it is host memory.
  std::vector<std::vector<uint8_t>> staging;
  std::vector<void *> batch_ptrs;
  std::vector<uint8_t> input_block;
  for (int32_t i = 0; i < model.num_inputs; ++i) {
    if (memory.is_host() && !distribution) {
      batch_ptrs.push_back(state.inputs[static_cast<size_t>(i)].data());
    } else {
      staging.emplace_back(static_cast<size_t>(byte_size(model.inputs[i])));
      batch_ptrs.push_back(staging.back().data());
    }
  }

  LrScheduleConfig schedule{config.schedule, config.lr, config.min_lr, config.warmup_steps,
                            config.steps};
  auto save_checkpoint = [&](int64_t step_number) {
    std::string path;
    if (distribution) {
      FullTensors full(model, local, state, memory, *distribution, false);
      if (!leader)
        return;
      path = write_checkpoint(config.checkpoint_dir,
                              checkpoint_meta(config, model, batches, step_number), full.tensors,
                              host_memory());
    } else {
      path = write_checkpoint(config.checkpoint_dir,
                              checkpoint_meta(config, model, batches, step_number),
                              state.checkpoint_tensors(model), memory);
    }
    if (verbose) {
      std::fprintf(log, "saved checkpoint %s\n", path.c_str());
      std::fflush(log);
    }
  };

  std::optional<MetricsWriter> metrics;
  if (!config.metrics_path.empty() && leader)
    metrics.emplace(config.metrics_path, start_step);
  ProgressPrinter progress(start_step + 1, config.steps, leader ? config.log_every : 0,
                           batches.source().tokens_per_sample() > 0, log);
  StageTiming stage_timing(distribution);
  // The loss and the index flag are host memory on every target: the step
  // copies its loss out itself (a CUDA step with a cudaMemcpy that also
  // waits for the step's kernels).
  float loss = 0;
  int32_t invalid_index = 0;
  StepBuffers buffers{state.param_ptrs.data(),
                      state.opt_state_ptrs.data(),
                      state.input_ptrs.data(),
                      &loss,
                      state.workspace.data(),
                      &invalid_index,
                      nullptr,
                      distribution ? distribution->step_context() : nullptr};
  int64_t samples_per_step = model.defaults.batch_size;
  int64_t tokens_per_step = samples_per_step * batches.source().tokens_per_sample();

  // The next batch into the inputs the step reads.
  auto load_batch = [&](BatchIterator &from) {
    from.next(batch_ptrs.data());
    for (int32_t i = 0; i < model.num_inputs && (distribution || !memory.is_host()); ++i) {
      const void *host = batch_ptrs[static_cast<size_t>(i)];
      int64_t local_bytes = local.input_bytes[static_cast<size_t>(i)];
      if (local_bytes == 0)
        continue; // an input only other pipeline stages read
      if (distribution) {
        // Every rank reads the same batch and keeps its rows.
        input_block.resize(static_cast<size_t>(local_bytes));
        distribution->extract(model.inputs[i], sharding_of(model.input_shardings, i), host,
                              input_block.data());
        host = input_block.data();
      }
      memory.copy_to_device(state.inputs[static_cast<size_t>(i)].data(), host, local_bytes);
    }
  };
  // The mean of the evaluation function's loss over the held-out batches
  // (each batch's loss is a mean over its rows, as the train step's is).
  auto evaluate = [&](int64_t step_number) {
    float batch_loss = 0;
    StepBuffers eval_buffers = buffers;
    eval_buffers.loss = &batch_loss;
    StepScalars scalars{};
    scalars.step = step_number;
    scalars.seed = config.seed;
    eval_batches->seek(0);
    double total = 0;
    for (int64_t b = 0; b < eval_batch_count; ++b) {
      load_batch(*eval_batches);
      model.eval_step(scalars, eval_buffers);
      if (distribution && distribution->any(invalid_index != 0))
        invalid_index = 1;
      if (invalid_index)
        fail("evaluation after step ", step_number, ": the held-out batch ", b + 1,
             " holds an index out of range for the model (a token id not below the "
             "vocabulary size, or a label that is neither a class index nor the ignore "
             "index); check the data (",
             eval_batches->source().describe(), ")");
      total += static_cast<double>(batch_loss);
    }
    return static_cast<float>(total / static_cast<double>(eval_batch_count));
  };

  if (start_step >= config.steps && verbose)
    std::fprintf(log, "the checkpoint is at step %lld, --steps is %lld: nothing to train\n",
                 static_cast<long long>(start_step), static_cast<long long>(config.steps));
  int64_t last_checkpoint = start_step;
  auto run_start = std::chrono::steady_clock::now();
  for (int64_t step_number = start_step + 1; step_number <= config.steps; ++step_number) {
    auto begin = std::chrono::steady_clock::now();
    StepScalars scalars = step_scalars(schedule, model.defaults, step_number);
    scalars.seed = config.seed;
    load_batch(batches);
    auto step_begin = std::chrono::steady_clock::now();
    step(scalars, buffers);
    // A stage's busy time counts the step function alone: the check below
    // makes every rank wait for the slowest, which is not work.
    stage_timing.add_step(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - step_begin)
            .count());
    if (distribution && distribution->any(invalid_index != 0))
      invalid_index = 1;
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    if (invalid_index)
      fail("step ", step_number,
           ": the batch holds an index out of range for the model (a token "
           "id not below the vocabulary size, or a label that is neither a class index nor the "
           "ignore index); "
           "check the data (",
           batches.source().describe(), ")");
    if (!std::isfinite(loss))
      fail("the loss is ",
           std::isnan(loss) ? "NaN"
           : loss > 0       ? "inf"
                            : "-inf",
           " at step ", step_number, ": training diverged; try a lower --lr or a --warmup");

    StepRecord record;
    record.step = step_number;
    record.loss = loss;
    record.lr = scalars.lr;
    record.step_time_ms = ms;
    double seconds = ms > 0 ? ms / 1000.0 : 1e-9;
    record.samples_per_s = static_cast<double>(samples_per_step) / seconds;
    record.tokens_per_s = static_cast<double>(tokens_per_step) / seconds;
    if (eval_batches && ((config.eval_every > 0 && step_number % config.eval_every == 0) ||
                         step_number == config.steps)) {
      record.evaluated = true;
      record.eval_loss = evaluate(step_number);
    }
    // Collective: on the progress lines' steps (every 10th without them).
    if (stage_timing.active() &&
        progress_due(step_number, start_step + 1, config.steps,
                     config.log_every > 0 ? config.log_every : 10, record.evaluated))
      record.stage_busy_ms = stage_timing.report();
    if (metrics)
      metrics->write(record);
    progress.record(record);
    if (config.checkpoint_every > 0 && step_number % config.checkpoint_every == 0) {
      save_checkpoint(step_number);
      last_checkpoint = step_number;
    }
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  if (!config.checkpoint_dir.empty() && last_checkpoint < config.steps && start_step < config.steps)
    save_checkpoint(config.steps);
  if (!config.save_onnx.empty() && distribution) {
    FullTensors full(model, local, state, memory, *distribution, true);
    if (leader)
      export_onnx(model.model_path, config.save_onnx, full.tensors, host_memory());
    if (verbose)
      std::fprintf(log, "saved %s\n", config.save_onnx.c_str());
  } else if (!config.save_onnx.empty()) {
    export_onnx(model.model_path, config.save_onnx, state.param_tensors(model), memory);
    if (verbose)
      std::fprintf(log, "saved %s\n", config.save_onnx.c_str());
  }
  if (verbose && start_step < config.steps)
    std::fprintf(log, "trained steps %lld..%lld in %s, final loss %.6f\n",
                 static_cast<long long>(start_step + 1), static_cast<long long>(config.steps),
                 format_duration(elapsed).c_str(), static_cast<double>(loss));
  std::fflush(log);
}

std::string wrong_target(const ModelInfo &model, const char *target, const char *runtime) {
  if (!model.target || std::string(model.target) == target)
    return "";
  return detail::concat("the model was compiled for target '", model.target,
                        "', but this executable was linked with ", runtime);
}

int run_training(int argc, char **argv, const ModelInfo &model, StepFunction step,
                 DeviceMemory &memory) {
  std::string program = program_name(argc, argv);
  auto report = [&](const char *message) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), message);
  };
  try {
    std::optional<TrainConfig> config = parse_command_line(argc, argv, model);
    if (!config)
      return 0;
    train(*config, model, step, memory);
    return 0;
  } catch (const UsageError &error) {
    report(error.what());
    std::fprintf(stderr, "Run '%s --help' for the options.\n", program.c_str());
    return 2;
  } catch (const std::bad_alloc &) {
    report("out of host memory");
    return 1;
  } catch (const std::exception &error) {
    // Error, and the std::filesystem errors the checkpoint code can raise.
    report(error.what());
    return 1;
  }
}

} // namespace cleave::rt
