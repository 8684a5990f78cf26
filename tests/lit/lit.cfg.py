# lit configuration for Cleave's FileCheck tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Cleave"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.cleave_lit_binary_dir
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%models", os.path.join(config.cleave_source_dir, "models", "onnx")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["cleave-opt", "cleavec", "cleave-plan"], [config.cleave_tools_dir])
