#!/usr/bin/python3
"""Compiles the generated source of hand-written pipeline programs.

Each split of the lit test tests/lit/Codegen/cleave-emit-cpp.mlir (modules
with @train_step_stage<p> functions and transfer ops, as
cleave-pipeline-unroll writes them) goes through `cleave-opt
--cleave-emit-cpp` for the CPU and, when nvcc is given, the CUDA target;
the source must compile against the runtime's headers (the CPU with the
flags cleavec uses, CUDA for every architecture given). Objects only: the
executables link through cleavec once the runtime has the point-to-point
calls.
"""
import argparse
import os
import subprocess
import sys


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"FAILED: {what}\n  {' '.join(command)}\n{result.stdout}{result.stderr}")
        return None
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cleave-opt", required=True)
    parser.add_argument("--cxx", required=True)
    parser.add_argument("--nvcc", default="")
    parser.add_argument("--cuda-archs", default="80;90")
    parser.add_argument("--include", required=True, help="runtime/include")
    parser.add_argument("--source", required=True, help="the lit test with the modules")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    with open(args.source) as file:
        splits = file.read().split("\n// -----\n")
    targets = ["cpu"] + (["cuda"] if args.nvcc else [])
    failures = 0
    for index, split in enumerate(splits):
        module = os.path.join(args.workdir, f"program{index}.mlir")
        with open(module, "w") as file:
            file.write(split)
        for target in targets:
            what = f"split {index}, target {target}"
            source = run([args.cleave_opt, module, f"--cleave-emit-cpp=target={target}",
                          "-o", os.devnull], f"cleave-opt ({what})")
            if source is None:
                failures += 1
                continue
            # A pipeline program: the dispatcher and at least two stages.
            if "stage1::train_step(s, io);" not in source:
                print(f"FAILED: {what}: the source has no stage dispatch")
                failures += 1
                continue
            path = os.path.join(args.workdir, f"program{index}.{'cu' if target == 'cuda' else 'cpp'}")
            with open(path, "w") as file:
                file.write(source)
            if target == "cpu":
                command = [args.cxx, "-std=c++17", "-O1", "-fopenmp", "-march=x86-64-v2", "-Wall",
                           "-Werror", "-c", path, "-I", args.include,
                           "-o", path + ".o"]
            else:
                command = [args.nvcc, "-std=c++17", "-O1", "-c", path, "-I", args.include,
                           "-o", path + ".o"]
                for arch in filter(None, args.cuda_archs.split(";")):
                    command.append(f"-gencode=arch=compute_{arch},code=sm_{arch}")
            if run(command, f"compiling {what}") is None:
                failures += 1
                continue
            print(f"ok: {what} ({len(source.splitlines())} lines)")
    if failures:
        print(f"{failures} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
