#!/usr/bin/python3
"""Checkpoints across pipeline plans (issue 11, section 5): checkpoints stay
whole tensors, so one written under any plan resumes under any other.

On the toy GPT (its lm_head tied to the token embedding, which pp splits
between the first and the last stage) with AdamW (two moments per tensor
in the checkpoint), STEPS steps with a checkpoint after HALF:

  - pp=2 x dp=2 (4 ranks) -> resumed on one rank, and on pp=4 (4 ranks)
  - one rank -> resumed on pp=2 x dp=2
  - pp=2 x dp=2 uninterrupted, its --save-onnx

Each resumed run's later losses must match the uninterrupted one-device
run's, and every weight its --save-onnx writes the one-device run's final
weights, within 1e-4 relative (the plan invariance limit).

  /usr/bin/python3 tests/sharding/pipeline_checkpoints.py --cleavec build/bin/cleavec --workdir /tmp/ppc
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "onnx", "gpt_toy_dynamic.onnx")
TOLERANCE = 1e-4
STEPS = 6
HALF = 3
# AdamW's eps 1e-6 as in plan_invariance.py: the key bias's gradient is
# rounding noise, which eps 1e-8 would blow up into order-dependent steps.
FLAGS = ["--batch-size", "8", "--optimizer", "adamw", "--lr", "0.01", "--eps", "1e-6"]
PLANS = {
    "one": (1, []),
    "pp=2,dp=2": (4, ["--grid", "pp=2,dp=2", "--micro-batches", "2"]),
    "pp=4": (4, ["--grid", "pp=4", "--micro-batches", "4"]),
}


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env=mpi_environment(CLEAVE_COMM_TIMEOUT="60"))
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")


def weights(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


class Runner:
    def __init__(self, cleavec, workdir):
        self.workdir = workdir
        rng = np.random.default_rng(5)
        parts = []
        for name, array in (("idx", rng.integers(0, 64, (32, 16))),
                            ("y", rng.integers(0, 64, (32, 16)))):
            path = os.path.join(workdir, f"{name}.npy")
            np.save(path, array.astype(np.int64))
            parts.append(f"{name}={path}")
        self.data = ",".join(parts)
        self.executables = {}
        for plan, (_, flags) in PLANS.items():
            exe = os.path.join(workdir, "train-" + plan.replace(",", "_").replace("=", ""))
            run([cleavec, MODEL, "--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
                 *FLAGS, *flags, "-o", exe])
            self.executables[plan] = exe

    def train(self, plan, tag, *extra):
        """Runs `plan`; returns its losses and the path of its --save-onnx."""
        ranks = PLANS[plan][0]
        metrics = os.path.join(self.workdir, f"{tag}.jsonl")
        exported = os.path.join(self.workdir, f"{tag}.onnx")
        command = [self.executables[plan], "--data", self.data, "--metrics", metrics,
                   "--save-onnx", exported, "--log-every", "0", *extra]
        if ranks > 1:
            command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
        run(command)
        return [json.loads(line)["loss"] for line in open(metrics)], exported


def compare(what, reference, losses, ref_onnx, onnx_path):
    failures = []
    if len(losses) != len(reference):
        failures.append(f"{len(losses)} losses, expected {len(reference)}")
    loss_error = max((abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses, reference)),
                     default=0.0)
    if loss_error > TOLERANCE:
        failures.append(f"losses differ by {loss_error:.2e} relative")
    ref_weights, got = weights(ref_onnx), weights(onnx_path)
    weight_error = 0.0
    for name, ref in ref_weights.items():
        if ref.dtype.kind != "f":
            continue
        if name not in got:
            failures.append(f"weight {name} missing")
            continue
        error = np.linalg.norm(got[name] - ref) / max(np.linalg.norm(ref), 1e-12)
        weight_error = max(weight_error, error)
        if error > TOLERANCE:
            failures.append(f"weight {name}: relative L2 error {error:.2e}")
    status = "ok" if not failures else "FAIL: " + "; ".join(failures[:4])
    print(f"  {what:<44} loss err {loss_error:.1e}  weight err {weight_error:.1e}  {status}",
          flush=True)
    return not failures


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    runner = Runner(args.cleavec, args.workdir)
    steps = ["--steps", str(STEPS)]
    reference, ref_onnx = runner.train("one", "one", *steps)

    ok = True
    print(f"uninterrupted, {STEPS} steps:", flush=True)
    losses, exported = runner.train("pp=2,dp=2", "pp2dp2", *steps)
    ok &= compare("pp=2 x dp=2 --save-onnx", reference, losses, ref_onnx, exported)

    print(f"checkpoint after step {HALF}, resumed to step {STEPS}:", flush=True)
    for source, targets in (("pp=2,dp=2", ("one", "pp=4")), ("one", ("pp=2,dp=2",))):
        directory = os.path.join(args.workdir, "ckpt-" + source.replace(",", "_"))
        runner.train(source, f"first-{source}", "--steps", str(HALF), "--checkpoint-dir",
                     directory)
        for target in targets:
            losses, exported = runner.train(target, f"resumed-{source}-on-{target}", *steps,
                                            "--resume", directory)
            ok &= compare(f"{source} checkpoint -> {target}", reference[HALF:], losses,
                          ref_onnx, exported)
    print("pipeline checkpoints:", "all match" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
