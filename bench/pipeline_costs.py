#!/usr/bin/python3
"""What pipelining costs at compile time: generated C++ size, cleavec's wall
time, and each stage's workspace (the codegen buffer plan's peak).

cleave-pipeline-unroll clones each stage's forward and backward ops once per
micro-batch, so the generated source grows about linearly in M; this prints
by how much, and how the workspace of each stage compares between GPipe
(every micro-batch's activations live until its backward) and 1F1B (at
most S - p micro-batches in flight on stage p).

  /usr/bin/python3 bench/pipeline_costs.py --workdir /tmp/costs

For each configuration: `cleavec --emit=cpp` (source bytes, lines, wall
time of the compiler alone) and `cleavec` to an executable (wall and CPU
seconds with the host C++ compile, -O2; CPU time moves less than wall time
on a loaded machine). ccache is bypassed (CCACHE_DISABLE=1) so that the
C++ compile is timed, not a cache hit. The workspace per stage is read from the
source's `// Stage p (@train_step_stage<p>): ... workspace N bytes` lines
(the one-stage program's `workspace N bytes` line otherwise).
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command):
    """(wall seconds, CPU seconds of the command and its children, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def stage_workspaces(source):
    stages = re.findall(r"^// Stage (\d+) \(@train_step_stage\d+\):.*workspace (\d+) bytes",
                        source, re.M)
    if stages:
        return [int(bytes_) for _, bytes_ in stages]
    return [int(b) for b in re.findall(r"workspace (\d+) bytes", source)[:1]]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "onnx",
                                                        "gpt_toy_dynamic.onnx"))
    parser.add_argument("--batch-size", default="16")
    parser.add_argument("--configs", default="1:1:1f1b,2:1:1f1b,2:4:1f1b,2:16:1f1b,4:4:1f1b,"
                        "4:16:1f1b,2:8:gpipe,2:8:1f1b,4:8:gpipe,4:8:1f1b",
                        help="S:M:schedule,... (S=1: no pipeline flags, the unchanged program)")
    parser.add_argument("--no-build", action="store_true", help="only --emit=cpp")
    args = parser.parse_args()
    cleavec = os.path.join(args.build, "bin", "cleavec")
    os.makedirs(args.workdir, exist_ok=True)
    os.environ["CCACHE_DISABLE"] = "1"
    base = [cleavec, args.model, "--batch-size", args.batch_size, "--target", "cpu", "--loss",
            "cross_entropy", "--labels", "y", "--optimizer", "sgd", "--lr", "0.01"]
    print(f"{os.path.basename(args.model)} --batch-size {args.batch_size}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'S':>2} {'M':>3} {'schedule':>8} {'cpp bytes':>10} {'lines':>7} {'emit s':>7} "
          f"{'build s wall/cpu':>16}  workspace MiB per stage")
    for config in args.configs.split(","):
        stages, micro_batches, schedule = config.split(":")
        flags = []
        if stages != "1" or micro_batches != "1":
            flags = ["--grid", f"pp={stages}", "--micro-batches", micro_batches, "--schedule",
                     schedule] if stages != "1" else ["--micro-batches", micro_batches]
        tag = f"s{stages}_m{micro_batches}_{schedule}"
        cpp = os.path.join(args.workdir, tag + ".cpp")
        emit_s, emit_cpu, _ = timed([*base, *flags, "--emit=cpp", "-o", cpp])
        build = "-"
        if not args.no_build:
            build_s, build_cpu, _ = timed([*base, *flags, "-o", os.path.join(args.workdir, tag)])
            build = f"{build_s:.1f}/{build_cpu:.1f}"
        source = open(cpp).read()
        workspaces = " ".join(f"{b / 1048576:.2f}" for b in stage_workspaces(source))
        print(f"{stages:>2} {micro_batches:>3} {schedule:>8} {len(source.encode()):>10} "
              f"{source.count(chr(10)):>7} {emit_s:>7.2f} {build:>16}  {workspaces}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
