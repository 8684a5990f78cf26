#!/usr/bin/python3
"""Activation recomputation (cleavec --recompute) changes memory, not numbers.

Trains a GPT with dropout (p = 0.1 everywhere, so every recomputed dropout
mask must be drawn again bit for bit) for a few steps with --recompute none,
selective and full, under the same other flags, and requires the per-step
losses and every final weight to be bit-identical to the run without
recomputation. Also checks that the recomputing programs really differ:
cleavec's printed workspace peak must drop from none to selective to full
(on one device, without micro-batches).

    /usr/bin/python3 tests/numerics/compare_recompute.py --plan "" \\
        --cleavec build/bin/cleavec --workdir /tmp/recompute
    /usr/bin/python3 tests/numerics/compare_recompute.py --plan "--micro-batches 2" ...
    /usr/bin/python3 tests/numerics/compare_recompute.py --plan "--grid pp=2" --ranks 2 ...

The GPT (models/gen_gpt.py's toy preset with --dropout 0.1) is written into
the work directory at test time.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "sharding"))
from compare_training import make_data  # noqa: E402
from mpi_runs import SKIPPED, mpi_environment, mpirun_missing  # noqa: E402
from numerics_common import run_training, save_data  # noqa: E402

MODES = ("none", "selective", "full")
FLAGS = ["--loss", "cross_entropy", "--labels", "y", "--optimizer", "adamw", "--lr", "0.01"]


def build_model(workdir, dropout):
    path = os.path.join(workdir, f"gpt_toy_dropout{dropout}.onnx")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "gen_gpt.py"), "--preset",
                        "toy", "--batch", "2", "--seq", "16", "--mode", "train", "--opset", "17",
                        "--dropout", str(dropout), "-o", path], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def compile_exe(cleavec, model_path, plan, mode, workdir):
    """The executable's path and the workspace peak (MiB) cleavec printed."""
    os.makedirs(workdir, exist_ok=True)
    exe = os.path.join(workdir, "train")
    run = subprocess.run([cleavec, model_path, "--target", "cpu", *FLAGS, *plan, "--recompute",
                          mode, "-o", exe], check=True, capture_output=True, text=True)
    peak = re.search(r"workspace peak ([0-9.]+) MiB", run.stderr)
    return exe, float(peak.group(1)) if peak else None


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", default="", help="cleavec flags of every run (e.g. '--grid pp=2')")
    parser.add_argument("--ranks", type=int, default=1, help="MPI ranks the plan runs on")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    if args.ranks > 1 and mpirun_missing():
        return SKIPPED
    os.makedirs(args.workdir, exist_ok=True)
    model_path = build_model(args.workdir, args.dropout)
    data, _ = make_data("gpt_toy", model_path, 4, np.random.default_rng(1234))
    data_flags = save_data(data, args.workdir)
    plan = args.plan.split()
    launch = ("mpirun", "--oversubscribe", "-np", str(args.ranks)) if args.ranks > 1 else ()
    if launch:
        os.environ.update(mpi_environment())

    runs = {}
    peaks = {}
    for mode in MODES:
        work = os.path.join(args.workdir, mode)
        exe, peaks[mode] = compile_exe(args.cleavec, model_path, plan, mode, work)
        runs[mode] = run_training(exe, data_flags, args.steps, work, launch)

    failures = 0
    reference_losses, reference_weights = runs["none"]
    print(f"gpt_toy, dropout {args.dropout}, {args.plan or 'one device'}: {args.steps} steps")
    print(" mode        peak MiB  losses")
    for mode in MODES:
        losses, weights = runs[mode]
        print(f" {mode:10s}  {peaks[mode]!s:8s}  {' '.join(f'{loss:.9g}' for loss in losses)}")
        if len(losses) != args.steps:
            print(f"  {mode}: {len(losses)} losses, expected {args.steps}")
            failures += 1
        if losses != reference_losses:
            print(f"  {mode}: losses differ from --recompute none")
            failures += 1
        differing = [name for name, value in reference_weights.items()
                     if name not in weights or not same_bits(weights[name], value)]
        if differing or len(weights) != len(reference_weights):
            print(f"  {mode}: {len(differing)} weights differ from --recompute none: "
                  f"{', '.join(differing[:5])}")
            failures += 1
        else:
            print(f"  {mode}: {len(weights)} final weights bit-identical to --recompute none")
    if len(set(reference_losses)) < 2:
        print(" the losses do not change over the steps: nothing was trained")
        failures += 1
    if not plan:
        if None in peaks.values() or not peaks["none"] > peaks["selective"] > peaks["full"]:
            print(f" the workspace peak does not drop none > selective > full: {peaks}")
            failures += 1
    print(f"recompute: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
