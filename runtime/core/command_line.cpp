//===- command_line.cpp - the generated executable's command line -----------===//
//
// Every generated training executable has the same options; their defaults
// come from the TrainDefaults compiled into the model. docs/formats.md
// lists them with the file formats they read and write.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/training_loop.h"

#include "cleave/rt/schedule.h"
#include "cleave/rt/tensor.h"

#include <CLI/CLI.hpp>

#include <cmath>

namespace cleave::rt {

TrainConfig default_config(const ModelInfo &model) {
  TrainConfig config;
  config.lr = model.defaults.lr;
  config.schedule = model.defaults.schedule;
  config.warmup_steps = model.defaults.warmup_steps;
  return config;
}

std::string program_name(int argc, char **argv) {
  std::string path = argc > 0 && argv[0] ? argv[0] : "train";
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// "x float32[8, 4], y int64[8]", or "none".
static std::string list_inputs(const ModelInfo &model) {
  std::string text;
  for (int32_t i = 0; i < model.num_inputs; ++i)
    text +=
        (i ? ", " : "") + std::string(model.inputs[i].name) + " " + type_string(model.inputs[i]);
  return model.num_inputs ? text : "none";
}

static std::string describe_model(const ModelInfo &model) {
  int64_t parameters = 0, frozen = 0;
  for (int32_t i = 0; i < model.num_params; ++i)
    if (model.params[i].kind == ParamKind::trainable)
      parameters += num_elements(model.params[i].tensor);
    else
      frozen += num_elements(model.params[i].tensor);
  std::string text = std::string("Trains ") + model.model_path + " (" + std::to_string(parameters) +
                     " parameters, " + (frozen ? std::to_string(frozen) + " not trained, " : "") +
                     optimizer_name(model.defaults.optimizer) + ", batch " +
                     std::to_string(model.defaults.batch_size) + ", target " + model.target +
                     ").\nData inputs: " + list_inputs(model);
  return text;
}

/// An option that shows its default and must pass `check`, in `group`.
template <typename T>
static CLI::Option *add_checked(CLI::App &app, const std::string &flag, T &value,
                                const std::string &help, const CLI::Validator &check,
                                const std::string &group) {
  return app.add_option(flag, value, help)->capture_default_str()->check(check)->group(group);
}

std::optional<TrainConfig> parse_command_line(int argc, char **argv, const ModelInfo &model) {
  TrainConfig config = default_config(model);
  CLI::App app(describe_model(model), program_name(argc, argv));
  app.footer("Files: docs/formats.md. Exit status: 0 success, 1 error, 2 bad command line.");

  std::vector<std::string> data;
  app.add_option("--data", data,
                 "NAME=FILE.npy for every data input; repeat the flag or separate with ','")
      ->delimiter(',')
      ->group("Data");
  app.add_option("--tokens", config.tokens,
                 "Token stream (uint16, or llm.c .bin) for a model whose two inputs are [B, T] "
                 "token ids and next-token labels; replaces --data")
      ->group("Data");
  app.add_flag("--shuffle", config.shuffle,
               "Visit samples in a new order every epoch (from --seed) instead of file order")
      ->group("Data");
  app.add_option("--seed", config.seed, "Seed for --shuffle and --init random")
      ->capture_default_str()
      ->group("Data");

  std::vector<std::string> eval_data;
  app.add_option("--eval-data", eval_data,
                 "Held-out data, NAME=FILE.npy for every data input as --data: its loss in "
                 "eval semantics (dropout off, BatchNorm from running statistics) is reported "
                 "as eval_loss")
      ->delimiter(',')
      ->group("Evaluation");
  app.add_option("--eval-tokens", config.eval_tokens, "Held-out token stream, as --tokens")
      ->group("Evaluation");
  add_checked(app, "--eval-every", config.eval_every,
              "Evaluate every N steps (0: only after the last step)", CLI::NonNegativeNumber,
              "Evaluation");
  add_checked(app, "--eval-batches", config.eval_batches,
              "Batches per evaluation, from the start of the held-out data (0: every whole "
              "batch it holds)",
              CLI::NonNegativeNumber, "Evaluation");

  app.add_option("--steps", config.steps, "Train up to this step (a resumed run continues to it)")
      ->required()
      ->check(CLI::PositiveNumber)
      ->group("Training");
  add_checked(app, "--lr", config.lr, "Peak learning rate", CLI::PositiveNumber, "Training");
  std::string schedule = schedule_name(config.schedule);
  add_checked(app, "--schedule", schedule,
              "Learning rate after warmup: constant, or cosine decay to --min-lr at --steps",
              CLI::IsMember({"constant", "cosine"}), "Training");
  add_checked(app, "--warmup", config.warmup_steps, "Steps of linear warmup from lr/warmup to lr",
              CLI::NonNegativeNumber, "Training");
  add_checked(app, "--min-lr", config.min_lr, "Where --schedule cosine ends",
              CLI::NonNegativeNumber, "Training");
  std::string init = "onnx";
  add_checked(app, "--init", init,
              "Initial weights: onnx (the model file's initializers) or random (for models "
              "exported without weights)",
              CLI::IsMember({"onnx", "random"}), "Training");
  add_checked(app, "--threads", config.threads,
              "CPU threads for OpenMP and OpenBLAS (0: their default)", CLI::NonNegativeNumber,
              "Training");

  app.add_option("--checkpoint-dir", config.checkpoint_dir,
                 "Directory for checkpoints (ckpt-<step>.safetensors, latest); a final one is "
                 "written at the end")
      ->group("Checkpoints");
  add_checked(app, "--checkpoint-every", config.checkpoint_every,
              "Also checkpoint every N steps (0: only at the end)", CLI::NonNegativeNumber,
              "Checkpoints");
  CLI::Option *resume =
      app.add_option("--resume", config.resume_path,
                     "Continue from a checkpoint: PATH (a file, or a directory's latest), or "
                     "without PATH the latest in --checkpoint-dir")
          ->expected(0, 1)
          ->group("Checkpoints");

  app.add_option("--metrics", config.metrics_path,
                 "Write one JSON object per step (step, loss, lr, step_time_ms, samples_per_s)")
      ->group("Output");
  add_checked(app, "--log-every", config.log_every,
              "Print a progress line every N steps (0: quiet)", CLI::NonNegativeNumber, "Output");
  app.add_option("--save-onnx", config.save_onnx,
                 "Write the trained model as ONNX (the original with trained initializers)")
      ->group("Output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &error) {
    if (error.get_exit_code() == 0) { // --help
      std::printf("%s", app.help().c_str());
      return std::nullopt;
    }
    throw UsageError(error.what());
  }

  for (const std::string &binding : data) {
    try {
      config.data.push_back(parse_data_binding(binding));
    } catch (const Error &error) {
      throw UsageError(error.what());
    }
  }
  for (const std::string &binding : eval_data) {
    try {
      config.eval_data.push_back(parse_data_binding(binding));
    } catch (const Error &) {
      throw UsageError("--eval-data '" + binding + "' is not NAME=FILE.npy");
    }
  }
  config.schedule = schedule == "cosine" ? LrSchedule::cosine : LrSchedule::constant;
  config.init = init == "random" ? WeightInit::random : WeightInit::onnx;
  config.resume = resume->count() > 0;

  if (!std::isfinite(config.lr) || !std::isfinite(config.min_lr))
    throw UsageError("--lr and --min-lr must be finite");
  if (!config.tokens.empty() && !config.data.empty())
    throw UsageError("--tokens and --data both bind the model's inputs; give one of them");
  if (config.tokens.empty() && config.data.empty() && model.num_inputs > 0)
    throw UsageError("no data: pass --data NAME=FILE.npy for each input (" + list_inputs(model) +
                     "), or --tokens FILE for a language model");
  bool evaluates = !config.eval_data.empty() || !config.eval_tokens.empty();
  if (!config.eval_tokens.empty() && !config.eval_data.empty())
    throw UsageError("--eval-tokens and --eval-data both bind the held-out data; give one of them");
  if (!evaluates && (app.count("--eval-every") || app.count("--eval-batches")))
    throw UsageError("--eval-every and --eval-batches need held-out data: pass --eval-data "
                     "NAME=FILE.npy for each input, or --eval-tokens FILE");
  if (evaluates && !model.eval_step)
    throw UsageError("this executable has no evaluation function (it was compiled with cleavec "
                     "--no-eval); compile it without --no-eval to use --eval-data or "
                     "--eval-tokens");
  if (config.checkpoint_every > 0 && config.checkpoint_dir.empty())
    throw UsageError("--checkpoint-every needs --checkpoint-dir");
  if (config.resume && config.resume_path.empty() && config.checkpoint_dir.empty())
    throw UsageError(
        "--resume without a path needs --checkpoint-dir, the directory to resume from");
  return config;
}

} // namespace cleave::rt
