#!/usr/bin/python3
"""Gradient buckets change no bit: a 4-rank run with merged gradient
collectives (cleave-bucket-collectives, the default --bucket-mb 25) and one
with a message per gradient (--bucket-mb 0) give identical losses and
identical final weights.

The GPT is trained under pure data parallelism (merged all-reduces) and
under ZeRO-3 (merged reduce-scatters) for a few steps. Under
CLEAVE_REDUCTION_ORDER=rank (pinned here) the runtime adds each element's
contributions in rank order however long the message is, so concatenating
gradients must not change a single bit (MPI's own collectives, the default
order, may add in another order for another message size on more than 2
ranks: docs/runtime-comm.md, "Numerics"); any difference
means the pass mixed up which slice belongs to which gradient, or moved
an op so that it reads another value.

Run by ctest; by hand:
  /usr/bin/python3 tests/sharding/bucket_bitwise.py --cleavec build/bin/cleavec --workdir /tmp/bb
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "onnx", "gpt_toy_dynamic.onnx")
STEPS = 6
FLAGS = ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y", "--batch-size", "8",
         "--optimizer", "adamw", "--lr", "0.01", "--eps", "1e-6"]
PLANS = {"dp=4": ["--grid", "dp=4"], "zero3": ["--grid", "dp=4", "--zero", "3"]}


def collectives(cleavec, flags):
    """How many shard collectives of each kind the per-device step holds."""
    text = run([cleavec, MODEL, *FLAGS, *flags, "--emit=train-mlir"]).stdout
    return {kind: text.count(f"shard.{kind} ") for kind in ("all_reduce", "reduce_scatter")}


def train(cleavec, flags, data, workdir, tag):
    executable = os.path.join(workdir, tag)
    run([cleavec, MODEL, *FLAGS, *flags, "-o", executable])
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    exported = os.path.join(workdir, f"{tag}.onnx")
    env = mpi_environment(CLEAVE_REDUCTION_ORDER="rank")
    run(["mpirun", "--oversubscribe", "-np", "4", executable, "--data", data, "--steps",
         str(STEPS), "--metrics", metrics, "--save-onnx", exported, "--log-every", "0"],
        env=env, timeout=600)
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(exported).graph.initializer}
    return losses, weights


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    rng = np.random.default_rng(11)
    parts = []
    arrays = {"idx": rng.integers(0, 64, (32, 16)), "y": rng.integers(0, 64, (32, 16))}
    for name, array in arrays.items():
        path = os.path.join(args.workdir, f"{name}.npy")
        np.save(path, array.astype(np.int64))
        parts.append(f"{name}={path}")
    data = ",".join(parts)

    ok = True
    for plan, flags in PLANS.items():
        apart = collectives(args.cleavec, flags + ["--bucket-mb", "0"])
        merged = collectives(args.cleavec, flags)
        fewer = sum(merged.values()) < sum(apart.values())
        losses_apart, weights_apart = train(args.cleavec, flags + ["--bucket-mb", "0"], data,
                                            args.workdir, f"{plan}_apart")
        losses_merged, weights_merged = train(args.cleavec, flags, data, args.workdir,
                                              f"{plan}_merged")
        same_losses = losses_apart == losses_merged and len(losses_merged) == STEPS
        different = [name for name, value in weights_apart.items()
                     if not np.array_equal(value, weights_merged[name])]
        good = fewer and same_losses and not different
        ok &= good
        print(f"  {plan:<6} collectives {apart} -> {merged}; losses "
              f"{'identical' if same_losses else 'DIFFER'}; weights "
              f"{'identical' if not different else 'DIFFER: ' + ', '.join(different[:5])}"
              f"{'' if fewer else '; NOTHING WAS MERGED'}", flush=True)
        if not same_losses:
            print(f"    apart:  {losses_apart}\n    merged: {losses_merged}")
    print("bucket bitwise:", "identical" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
