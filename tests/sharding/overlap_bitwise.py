#!/usr/bin/python3
"""Communication overlap changes no bit: a program whose collectives are
started early and waited for late (cleave-overlap-collectives, the default)
and the blocking one (--no-overlap) give identical losses and identical
final weights, and both match the one-device run (which the numerics tests
compare with PyTorch) within 1e-4 relative, as tests/sharding/
plan_invariance.py asks of every plan.

Plans, on the MLP: data parallelism on 2 ranks with small buckets (several
gradient all-reduces started during the backward), ZeRO-3 on 2 ranks
(parameter all-gathers prefetched a layer ahead, gradient reduce-scatters
started early) and 2 pipeline stages x dp=2 on 4 ranks (each stage's
gradient all-reduces). Each overlapped program must hold started
collectives (else the case tests nothing) and the blocking one none.

The same collectives run on the same inputs, so any difference means a
collective's input was changed or its buffer read before its wait, or the
memory plan gave a pending buffer to another value.

Run by ctest; by hand:
  /usr/bin/python3 tests/sharding/overlap_bitwise.py --cleavec build/bin/cleavec --workdir /tmp/ob
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "onnx", "mlp.onnx")
STEPS = 5
TOLERANCE = 1e-4
FLAGS = ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y", "--optimizer", "adamw",
         "--lr", "0.01"]
# name: (flags, ranks)
PLANS = {
    "dp=2": (["--grid", "dp=2", "--bucket-mb", "0.005"], 2),
    "zero3": (["--grid", "dp=2", "--zero", "3"], 2),
    "pp=2,dp=2": (["--grid", "pp=2,dp=2", "--micro-batches", "2", "--bucket-mb", "0.005"], 4),
}


def started(cleavec, flags):
    """How many collectives the step starts early."""
    text = run([cleavec, MODEL, *FLAGS, *flags, "--emit=train-mlir"]).stdout
    return len(re.findall(r"cleave\.(all_reduce|reduce_scatter|all_gather)_start ", text))


def train(cleavec, flags, ranks, data, workdir, tag):
    executable = os.path.join(workdir, tag)
    run([cleavec, MODEL, *FLAGS, *flags, "-o", executable])
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    exported = os.path.join(workdir, f"{tag}.onnx")
    command = [executable, "--data", data, "--steps", str(STEPS), "--metrics", metrics,
               "--save-onnx", exported, "--log-every", "0"]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
    run(command, env=mpi_environment(), timeout=600)
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(exported).graph.initializer}
    return losses, weights


def relative_error(reference, losses, ref_weights, weights):
    error = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(reference, losses))
    for name, ref in ref_weights.items():
        if ref.dtype.kind == "f":
            error = max(error, float(np.linalg.norm(weights[name] - ref) /
                                     max(np.linalg.norm(ref), 1e-12)))
    return error


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    rng = np.random.default_rng(13)
    parts = []
    arrays = {"x": rng.standard_normal((64, 32)).astype(np.float32),
              "y": rng.integers(0, 10, 64).astype(np.int64)}
    for name, array in arrays.items():
        path = os.path.join(args.workdir, f"{name}.npy")
        np.save(path, array)
        parts.append(f"{name}={path}")
    data = ",".join(parts)

    ref_losses, ref_weights = train(args.cleavec, [], 1, data, args.workdir, "single")
    ok = True
    for plan, (flags, ranks) in PLANS.items():
        starts = started(args.cleavec, flags)
        blocking_starts = started(args.cleavec, flags + ["--no-overlap"])
        tag = re.sub(r"[^a-z0-9]", "_", plan)
        losses, weights = train(args.cleavec, flags, ranks, data, args.workdir, f"{tag}_overlap")
        losses_b, weights_b = train(args.cleavec, flags + ["--no-overlap"], ranks, data,
                                    args.workdir, f"{tag}_blocking")
        same_losses = losses == losses_b and len(losses) == STEPS
        different = [name for name, value in weights_b.items()
                     if not np.array_equal(value, weights[name])]
        error = relative_error(ref_losses, losses, ref_weights, weights)
        good = (starts > 0 and blocking_starts == 0 and same_losses and not different and
                error <= TOLERANCE)
        ok &= good
        print(f"  {plan:<10} {starts} collectives started early ({blocking_starts} with "
              f"--no-overlap); losses {'identical' if same_losses else 'DIFFER'}; weights "
              f"{'identical' if not different else 'DIFFER: ' + ', '.join(different[:5])}; "
              f"against one device {error:.1e}{'' if error <= TOLERANCE else ' TOO FAR'}",
              flush=True)
        if not same_losses:
            print(f"    overlap:  {losses}\n    blocking: {losses_b}")
    print("overlap bitwise:", "identical" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
