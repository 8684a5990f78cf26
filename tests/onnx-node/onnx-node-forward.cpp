//===- onnx-node-forward.cpp - run every ONNX backend node test forward ---===//
//
//   onnx-node-forward DATA_DIR [--expected-failures FILE]
//       [--forward-expected-failures FILE] [--filter TEXT] [-j N]
//       [--chunk-size N] [--opt FLAG] [--keep] [--verbose]
//
// Runs the forward pass of every node test that imports through the whole
// CPU path (codegen, the host compiler, the runtime's kernels) and compares
// its outputs with the test's reference outputs:
//
// 1. List the tests (NodeTests.h); those with an op outside the importer's
//    table or an opset outside the supported range are not applicable.
// 2. Import each under the static-shape policy (nodetests::kPolicy, shared
//    with onnx-node-sweep). A test that does not import must be listed in
//    the sweep's expected-failures.txt; it is counted as an import gap.
// 3. Lower training-mode Dropout (cleave-lower-dropout, as the train
//    pipeline does) and generate C++ for @forward (CodegenOptions::function)
//    without main() and with the symbol prefix node<N>_.
// 4. Compile the programs in chunks of --chunk-size, one translation unit
//    and one shared library per chunk (ForwardLibrary.h), -j chunks at a
//    time. A chunk that does not compile is split into one library per
//    program, so a failure names its own model.
// 5. Run each chunk's programs in a child process (a crash or a runtime
//    CHECK fails that model, not the sweep): parameters (initializers)
//    come from the policy-applied model file through the runtime's
//    WeightReader as the training driver loads them, data inputs from
//    test_data_set_*/input_N.pb bound by graph-input name; then compare
//    each output with output_N.pb (TestTensors.h: the backend runner's
//    rtol 1e-3, atol 1e-7, integers and booleans exact).
// 6. Print per op the models run and passed, and the totals. The exit code
//    is 0 only when every model that imports passes or is listed with its
//    reason in forward-expected-failures.txt, and no listed model passes.
//
//===----------------------------------------------------------------------===//
#include "ForwardLibrary.h"
#include "NodeTests.h"
#include "TestTensors.h"

#include "compiler/Codegen/Codegen.h"
#include "compiler/Registration.h"
#include "dialects/Cleave/IR/CleaveDialect.h"
#include "passes/Passes.h"

#include "cleave/rt/check.h"
#include "cleave/rt/weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace mlir;
using namespace mlir::cleave;
using namespace mlir::cleave::nodetests;
namespace rt = ::cleave::rt;

#ifndef CLEAVE_DEFAULT_EXPECTED_FAILURES
#define CLEAVE_DEFAULT_EXPECTED_FAILURES ""
#endif
#ifndef CLEAVE_DEFAULT_FORWARD_EXPECTED_FAILURES
#define CLEAVE_DEFAULT_FORWARD_EXPECTED_FAILURES ""
#endif

/// Measured on 2 cores: the 436 programs compile in 10-15 s of CPU at -O2
/// whether in chunks of 20 or of 440, and at -O1 or -O0 hardly faster; so
/// cleavec's -O2 (the numerics a user gets), and chunks of 50: 9 libraries
/// to share between the CI machine's two cores.
constexpr const char *kDefaultOptimization = "-O2";
constexpr int kDefaultChunkSize = 50;
constexpr int kDefaultJobs = 2;
/// A model that runs longer than this is stopped and fails (a hang).
constexpr unsigned kModelTimeoutSeconds = 60;
/// Workspace alignment: what the kernels' vector loads prefer.
constexpr size_t kWorkspaceAlignment = 64;

namespace {

/// One applicable node test on its way through the runner.
struct Model {
  const NodeTest *test = nullptr;
  std::string prefix; // symbol prefix of its program
  fs::path modelFile; // the policy-applied model: its initializers are the parameters
  PolicyResult policy;
  std::vector<BufferType> outputs;
  std::vector<int32_t> declaredOutputs; // ONNX element types of the graph outputs
  std::string source;
  bool importGap = false; // did not import (the sweep's expected failures)
  std::string library;    // the shared library holding its program
  // The verdict.
  bool ran = false, passed = false;
  std::string failure; // "stage: message"
};

/// One line of a message (the child reports through a line protocol).
std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  if (text.size() > 600)
    text = text.substr(0, 600) + "...";
  return text;
}

bool bufferTypeOf(Type type, BufferType &buffer) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return false;
  Type element = ranked.getElementType();
  if (element.isF32())
    buffer.dtype = rt::DType::f32;
  else if (element.isF64())
    buffer.dtype = rt::DType::f64;
  else if (element.isF16())
    buffer.dtype = rt::DType::f16;
  else if (element.isBF16())
    buffer.dtype = rt::DType::bf16;
  else if (element.isInteger(64))
    buffer.dtype = rt::DType::i64;
  else if (element.isInteger(32))
    buffer.dtype = rt::DType::i32;
  else if (element.isInteger(8))
    buffer.dtype = rt::DType::i8;
  else if (element.isInteger(1))
    buffer.dtype = rt::DType::i1;
  else
    return false;
  buffer.shape.assign(ranked.getShape().begin(), ranked.getShape().end());
  return true;
}

/// Steps 2-3: import `model.test` and generate its forward program.
void prepare(Model &model, MLIRContext &context, const fs::path &scratch) {
  const NodeTest &test = *model.test;
  onnx::ModelProto proto = test.model;
  ImportOptions options;
  model.policy = applyPolicy(proto, test.dir, Policy::StaticShapes, options);
  for (const onnx::ValueInfoProto &output : proto.graph().output())
    model.declaredOutputs.push_back(output.type().tensor_type().elem_type());
  model.modelFile = scratch / (test.name + ".onnx");
  {
    std::ofstream file(model.modelFile, std::ios::binary);
    proto.SerializeToOstream(&file);
  }
  auto module = importOnnxFile(model.modelFile.string(), options, context);
  if (!module) {
    model.importGap = true;
    model.failure = "import: " + llvm::toString(module.takeError());
    return;
  }
  auto forward = (*module)->lookupSymbol<func::FuncOp>("forward");
  if (!forward) {
    model.failure = "import: the module has no @forward";
    return;
  }
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic << "; ";
    return success();
  });
  // What the train pipeline does first, and codegen requires: training-mode
  // Dropout becomes a product with a random mask.
  PassManager pm(&context);
  pm.addPass(createCleaveLowerDropout());
  if (failed(pm.run(**module))) {
    model.failure = "cleave-lower-dropout: " + diagnostics;
    return;
  }
  codegen::CodegenOptions codegenOptions;
  codegenOptions.function = "forward";
  codegenOptions.emitMain = false;
  codegenOptions.symbolPrefix = model.prefix;
  codegenOptions.modelPath = model.modelFile.string();
  llvm::raw_string_ostream os(model.source);
  if (failed(codegen::emitTrainStep(**module, codegenOptions, os))) {
    model.failure = "codegen: " + diagnostics;
    model.source.clear();
    return;
  }
  for (Type type : forward.getResultTypes()) {
    BufferType buffer;
    if (!bufferTypeOf(type, buffer)) {
      model.failure = "codegen: a result has no runtime buffer type";
      model.source.clear();
      return;
    }
    model.outputs.push_back(buffer);
  }
}

/// Step 4: compiles `chunk` into `path`; a chunk that fails is split into
/// one library per program. Sets each model's library, or its failure.
void compileChunk(std::vector<Model *> chunk, const std::string &path, const std::string &opt) {
  std::vector<GeneratedProgram> programs;
  for (Model *model : chunk)
    programs.push_back({model->prefix, model->source});
  llvm::Error error = buildForwardLibrary(programs, path, opt);
  if (!error) {
    for (Model *model : chunk)
      model->library = path;
    return;
  }
  if (chunk.size() == 1) {
    chunk[0]->failure = "compile: " + llvm::toString(std::move(error));
    return;
  }
  llvm::consumeError(std::move(error));
  for (size_t i = 0; i < chunk.size(); ++i)
    compileChunk({chunk[i]}, path + "." + std::to_string(i) + ".so", opt);
}

/// Binds and runs one model's program on every data set; returns "" or
/// the failure. Runs in the child process.
std::string runModel(const Model &model, const ForwardLibrary &library) {
  ModelInfoFunction infoFunction;
  StepFunction step;
  if (llvm::Error error = library.lookup(model.prefix, infoFunction, step))
    return "load: " + llvm::toString(std::move(error));
  const rt::ModelInfo &info = *infoFunction();

  // Parameters, as the training driver loads them.
  std::vector<std::vector<char>> params(info.num_params), state(info.num_opt_state);
  std::vector<void *> paramPointers, statePointers;
  try {
    std::unique_ptr<rt::WeightReader> reader;
    for (int i = 0; i < info.num_params; ++i) {
      BufferType type{
          info.params[i].tensor.dtype,
          {info.params[i].tensor.shape, info.params[i].tensor.shape + info.params[i].tensor.rank}};
      params[i].resize(std::max<int64_t>(type.bytes(), 1));
      if (!reader)
        reader = std::make_unique<rt::WeightReader>(model.modelFile.string());
      reader->read(info.params[i].tensor, params[i].data());
      paramPointers.push_back(params[i].data());
    }
  } catch (const rt::Error &error) {
    return std::string("parameters: ") + error.what();
  }
  for (int i = 0; i < info.num_opt_state; ++i) {
    const rt::TensorSpec &spec = info.opt_state[i];
    BufferType type{spec.dtype, {spec.shape, spec.shape + spec.rank}};
    state[i].assign(std::max<int64_t>(type.bytes(), 1), 0);
    statePointers.push_back(state[i].data());
  }
  std::map<std::string, int> dataIndex(model.policy.dataIndex.begin(),
                                       model.policy.dataIndex.end());
  std::map<std::string, int32_t> declaredInputs;
  for (const onnx::ValueInfoProto &input : model.test->model.graph().input())
    declaredInputs[input.name()] = input.type().tensor_type().elem_type();

  std::vector<fs::path> dataSets = listDataSets(model.test->dir);
  if (dataSets.empty())
    return "data: no test_data_set_* directory";
  for (const fs::path &dataSet : dataSets) {
    std::string where = dataSet.filename().string() + ": ";
    // The policy baked test_data_set_0's integer operands in as constants.
    for (const auto &[name, value] : model.policy.constants) {
      std::optional<onnx::TensorProto> here = readTestTensor(dataSet, "input", dataIndex[name]);
      if (!here)
        return where + "input " + name + " is missing";
      fixBfloat16(*here, declaredInputs[name]);
      here->set_name(name);
      if (here->SerializeAsString() != value.SerializeAsString())
        return where + "input " + name +
               " differs from test_data_set_0's, which the static-shape "
               "policy compiled in as a constant";
    }
    std::vector<std::vector<char>> inputs(info.num_inputs);
    std::vector<const void *> inputPointers;
    for (int i = 0; i < info.num_inputs; ++i) {
      const rt::TensorSpec &spec = info.inputs[i];
      auto index = dataIndex.find(spec.name);
      if (index == dataIndex.end())
        return where + "the program's input " + spec.name + " is not a graph input";
      std::optional<onnx::TensorProto> tensor = readTestTensor(dataSet, "input", index->second);
      if (!tensor)
        return where + "input_" + std::to_string(index->second) + ".pb is missing";
      fixBfloat16(*tensor, declaredInputs[spec.name]);
      BufferType type{spec.dtype, {spec.shape, spec.shape + spec.rank}};
      inputs[i].resize(std::max<int64_t>(type.bytes(), 1));
      if (std::string error = writeTestTensor(*tensor, type, inputs[i].data()); !error.empty())
        return where + "input " + spec.name + ": " + error;
      inputPointers.push_back(inputs[i].data());
    }
    std::vector<std::vector<char>> outputs(model.outputs.size());
    std::vector<void *> outputPointers;
    for (size_t i = 0; i < outputs.size(); ++i) {
      // A pattern, so that an output the program never writes cannot pass.
      outputs[i].assign(std::max<int64_t>(model.outputs[i].bytes(), 1), '\x5a');
      outputPointers.push_back(outputs[i].data());
    }
    size_t workspaceBytes = (std::max<int64_t>(info.workspace_bytes, 1) + kWorkspaceAlignment - 1) /
                            kWorkspaceAlignment * kWorkspaceAlignment;
    std::unique_ptr<void, void (*)(void *)> workspace(
        std::aligned_alloc(kWorkspaceAlignment, workspaceBytes), std::free);
    float loss = 0;
    int32_t invalidIndex = 0;
    rt::StepScalars scalars{1, 0.0f, 1.0f, 1.0f, 0};
    rt::StepBuffers io{paramPointers.data(), statePointers.data(), inputPointers.data(), &loss,
                       workspace.get(),      &invalidIndex,        outputPointers.data()};
    step(&scalars, &io);
    if (invalidIndex)
      return where + "the program flagged an out-of-range index";
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::optional<onnx::TensorProto> expected = readTestTensor(dataSet, "output", i);
      if (!expected)
        return where + "output_" + std::to_string(i) + ".pb is missing";
      if (i < model.declaredOutputs.size())
        fixBfloat16(*expected, model.declaredOutputs[i]);
      std::string difference = compareWithReference(outputs[i].data(), model.outputs[i], *expected);
      if (!difference.empty())
        return where + "output " + std::to_string(i) + ": " + difference;
    }
  }
  return "";
}

/// Step 5: runs `models` (sharing `library`) in child processes; a model
/// that crashes, exits or hangs fails, and the next child goes on after it.
void runChunk(const std::string &library, const std::vector<Model *> &models) {
  size_t next = 0;
  while (next < models.size()) {
    int fds[2];
    if (pipe(fds) != 0) {
      for (; next < models.size(); ++next)
        models[next]->failure = "run: cannot create a pipe";
      return;
    }
    std::fflush(nullptr);
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      FILE *report = fdopen(fds[1], "w");
      llvm::Expected<ForwardLibrary> loaded = ForwardLibrary::open(library);
      for (size_t i = next; i < models.size(); ++i) {
        std::string message;
        if (!loaded) {
          message = "load: " + llvm::toString(loaded.takeError());
        } else {
          alarm(kModelTimeoutSeconds);
          message = runModel(*models[i], *loaded);
          alarm(0);
        }
        std::fprintf(report, "%zu\t%s\n", i, oneLine(message).c_str());
        std::fflush(report);
      }
      std::fclose(report);
      std::_Exit(0); // no atexit handlers or static destructors of the parent's state
    }
    close(fds[1]);
    if (child < 0) {
      close(fds[0]);
      for (; next < models.size(); ++next)
        models[next]->failure = "run: cannot fork";
      return;
    }
    FILE *report = fdopen(fds[0], "r");
    char *line = nullptr;
    size_t capacity = 0;
    while (getline(&line, &capacity, report) > 0) {
      char *tab = std::strchr(line, '\t');
      if (!tab)
        continue;
      size_t index = std::strtoul(line, nullptr, 10);
      std::string message(tab + 1);
      if (!message.empty() && message.back() == '\n')
        message.pop_back();
      if (index >= models.size())
        continue;
      models[index]->ran = true;
      models[index]->passed = message.empty();
      models[index]->failure = message;
      next = index + 1;
    }
    std::free(line);
    std::fclose(report);
    int status = 0;
    waitpid(child, &status, 0);
    if (next < models.size() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      // The child died running models[next].
      Model &model = *models[next];
      model.ran = true;
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        model.failure = "run: no result after " + std::to_string(kModelTimeoutSeconds) + " s";
      else if (WIFSIGNALED(status))
        model.failure = std::string("run: crashed (") + strsignal(WTERMSIG(status)) + ")";
      else
        model.failure = "run: the process exited with status " +
                        std::to_string(WEXITSTATUS(status)) + " (a runtime check failed)";
      ++next;
    } else if (next < models.size()) {
      for (; next < models.size(); ++next)
        models[next]->failure = "run: the child reported no result";
    }
  }
}

struct OpTally {
  int applicable = 0, importGaps = 0, run = 0, passed = 0, known = 0;
};

} // namespace

int main(int argc, char **argv) {
  auto usage = [] {
    std::cerr << "usage: onnx-node-forward DATA_DIR [--expected-failures FILE] "
                 "[--forward-expected-failures FILE] [--filter TEXT] [-j N] [--chunk-size N] "
                 "[--opt FLAG] [--keep] [--verbose]\n";
    return 2;
  };
  if (argc < 2)
    return usage();
  fs::path dataDir = argv[1];
  std::string importExpectedPath = CLEAVE_DEFAULT_EXPECTED_FAILURES;
  std::string forwardExpectedPath = CLEAVE_DEFAULT_FORWARD_EXPECTED_FAILURES;
  std::string filter, opt = kDefaultOptimization;
  int jobs = kDefaultJobs, chunkSize = kDefaultChunkSize;
  bool keep = false, verbose = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    bool hasValue = i + 1 < argc;
    auto number = [&](int &into) {
      char *end = nullptr;
      long value = std::strtol(argv[++i], &end, 10);
      if (*end || value < 1 || value > 10000)
        return false;
      into = static_cast<int>(value);
      return true;
    };
    if (arg == "--expected-failures" && hasValue) {
      importExpectedPath = argv[++i];
    } else if (arg == "--forward-expected-failures" && hasValue) {
      forwardExpectedPath = argv[++i];
    } else if (arg == "--filter" && hasValue) {
      filter = argv[++i];
    } else if (arg == "--opt" && hasValue) {
      opt = argv[++i];
    } else if (arg == "-j" && hasValue) {
      if (!number(jobs))
        return usage();
    } else if (arg == "--chunk-size" && hasValue) {
      if (!number(chunkSize))
        return usage();
    } else if (arg == "--keep") {
      keep = true;
    } else if (arg == "--verbose") {
      verbose = true;
    } else {
      std::cerr << "onnx-node-forward: unknown argument '" << arg << "'\n";
      return usage();
    }
  }
  if (!fs::is_directory(dataDir)) {
    std::cerr << "onnx-node-forward: '" << dataDir.string() << "' is not a directory\n";
    return 2;
  }
  std::map<std::string, std::string> importExpected, forwardExpected;
  for (auto [path, into] : {std::pair{&importExpectedPath, &importExpected},
                            std::pair{&forwardExpectedPath, &forwardExpected}}) {
    if (path->empty())
      continue;
    auto read = readExpectedFailures(*path);
    if (!read) {
      std::cerr << "onnx-node-forward: cannot read expected failures '" << *path << "'\n";
      return 2;
    }
    *into = std::move(*read);
  }

  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::string> unexpected, unreadable;
  std::vector<NodeTest> tests = listNodeTests(dataDir, unreadable);
  for (const std::string &name : unreadable)
    unexpected.push_back(name + ": model.onnx does not parse");

  llvm::SmallString<128> scratchPath;
  if (std::error_code error =
          llvm::sys::fs::createUniqueDirectory("onnx-node-forward", scratchPath)) {
    std::cerr << "onnx-node-forward: cannot create a scratch directory: " << error.message()
              << "\n";
    return 2;
  }
  fs::path scratch = scratchPath.str().str();

  std::cout << "ONNX backend node tests, forward: " << tests.size() + unreadable.size()
            << " models in " << dataDir.string() << "\n"
            << kPolicy << "  Each model that imports is compiled (codegen, c++ " << opt
            << ") and run on every\n  test_data_set_*; outputs must match output_N.pb within "
               "rtol 1e-3, atol 1e-7\n  (integers and booleans exactly), as ONNX's backend test "
               "runner requires.\n"
            << "expected import failures: "
            << (importExpectedPath.empty() ? "(none)" : importExpectedPath) << "\n"
            << "expected forward failures: "
            << (forwardExpectedPath.empty() ? "(none)" : forwardExpectedPath) << "\n\n";

  // 1-3. Import and generate.
  MLIRContext context;
  loadAllDialects(context);
  std::vector<Model> models;
  int notApplicable = 0;
  for (const NodeTest &test : tests) {
    if (!filter.empty() && test.name.find(filter) == std::string::npos)
      continue;
    if (!test.applicable) {
      ++notApplicable;
      if (forwardExpected.count(test.name))
        unexpected.push_back(test.name + ": not applicable (unsupported op or opset); remove it "
                                         "from the forward expected failures");
      continue;
    }
    Model model;
    model.test = &test;
    model.prefix = "node" + std::to_string(models.size()) + "_";
    models.push_back(std::move(model));
  }
  for (Model &model : models)
    prepare(model, context, scratch);
  double prepareSeconds = seconds();

  // 4. Compile in chunks, `jobs` at a time.
  std::vector<std::vector<Model *>> chunks;
  for (Model &model : models) {
    if (!model.failure.empty())
      continue;
    if (chunks.empty() || static_cast<int>(chunks.back().size()) >= chunkSize)
      chunks.emplace_back();
    chunks.back().push_back(&model);
  }
  std::atomic<size_t> nextChunk{0};
  auto compileWorker = [&] {
    for (size_t c; (c = nextChunk++) < chunks.size();)
      compileChunk(chunks[c], (scratch / ("chunk" + std::to_string(c) + ".so")).string(), opt);
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < std::min<int>(jobs, chunks.size()); ++i)
    workers.emplace_back(compileWorker);
  for (std::thread &worker : workers)
    worker.join();
  double compileSeconds = seconds() - prepareSeconds;

  // 5. Run, one child process per library.
  std::map<std::string, std::vector<Model *>> byLibrary;
  for (Model &model : models)
    if (!model.library.empty())
      byLibrary[model.library].push_back(&model);
  for (const auto &[library, members] : byLibrary)
    runChunk(library, members);
  double runSeconds = seconds() - prepareSeconds - compileSeconds;

  // 6. Verdicts and the table.
  std::map<std::string, OpTally> perOp;
  int run = 0, passed = 0, importGaps = 0, known = 0;
  std::vector<std::string> knownLines;
  for (Model &model : models) {
    const std::string &name = model.test->name;
    auto listed = forwardExpected.find(name);
    bool isKnown = false;
    if (model.importGap) {
      ++importGaps;
      if (!importExpected.count(name))
        unexpected.push_back(name + ": " + model.failure);
      if (listed != forwardExpected.end())
        unexpected.push_back(name + ": does not import; list it in the import expected "
                                    "failures only");
    } else if (model.passed) {
      ++passed;
      if (listed != forwardExpected.end())
        unexpected.push_back(name + ": passes now; remove it from the forward expected failures");
    } else if (listed != forwardExpected.end()) {
      isKnown = true;
      ++known;
      knownLines.push_back(name + ":" + listed->second + "\n    got: " + model.failure);
    } else {
      unexpected.push_back(name + ": " + model.failure);
    }
    run += !model.importGap;
    for (const std::string &op : model.test->ops) {
      OpTally &tally = perOp[op];
      ++tally.applicable;
      tally.importGaps += model.importGap;
      tally.run += !model.importGap;
      tally.passed += model.passed;
      tally.known += isKnown;
    }
  }
  if (!keep)
    fs::remove_all(scratch);

  std::cout << notApplicable << " use an unsupported op or opset\n\n";
  std::cout << "op                    passed / run   (known failures; not imported)\n";
  for (const auto &[op, tally] : perOp) {
    std::ostringstream line;
    line << "  " << padded(op, 20) << tally.passed << " / " << tally.run;
    std::string text = padded(line.str(), 37);
    if (tally.known || tally.importGaps)
      text += "(" + std::to_string(tally.known) + "; " + std::to_string(tally.importGaps) + ")";
    std::cout << text << "\n";
  }
  std::cout << "\n"
            << chunks.size() << " libraries compiled in " << static_cast<int>(compileSeconds)
            << " s (" << jobs << " jobs, up to " << chunkSize << " programs each); import and "
            << "codegen " << static_cast<int>(prepareSeconds) << " s; runs "
            << static_cast<int>(runSeconds) << " s\n";
  if (verbose)
    for (const std::string &line : knownLines)
      std::cout << "known failure " << line << "\n";
  if (keep)
    std::cout << "kept: " << scratch.string() << "\n";
  for (const std::string &line : unexpected)
    std::cout << "UNEXPECTED " << line << "\n";
  std::cout << "onnx-node-forward: " << passed << " of " << run << " models passed, " << known
            << " known failures, " << unexpected.size() << " unexpected; " << importGaps
            << " not imported (known import gaps), " << notApplicable << " not applicable\n";
  return unexpected.empty() ? 0 : 1;
}
