#!/usr/bin/python3
"""A generated training program launched without mpirun (launch.py's
torchrun-style variables, the gloo world) trains like under mpirun:

  1. the MLP compiled for dp=2 (`cleavec --devices 2 --grid dp=2`) and for
     a 2-stage pipeline (pp=2, 2 micro-batches: point-to-point transfers),
     4 steps with CLEAVE_REDUCTION_ORDER=rank on 2 ranks under mpirun and
     under launch.py: identical losses and bit-identical final weights (both
     add gradients in rank order);
  2. a long run on 2 ranks with rank 1 killed (SIGKILL) after a few
     seconds: rank 0 exits with status 3 within seconds (CLEAVE_COMM_TIMEOUT
     well above that: the closed connection, not the timeout, ends it),
     naming rank 1; no hang;
  3. a launch variable missing (MASTER_ADDR) or wrong (RANK=2 of 2): every
     rank exits 1 with the message naming the variable.

Run by ctest; by hand:
  /usr/bin/python3 tests/runtime/comm/gloo_training.py --cleavec build/bin/cleavec --workdir /tmp/gt
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
MODEL = os.path.join(ROOT, "models", "onnx", "mlp.onnx")
LAUNCH = os.path.join(HERE, "launch.py")
FLAGS = ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y", "--optimizer", "adamw",
         "--lr", "0.01", "--devices", "2"]
PLANS = {"dp=2": ["--grid", "dp=2"], "pp=2": ["--grid", "pp=2", "--micro-batches", "2"]}
STEPS = 4


def environment(**extra):
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", CLEAVE_REDUCTION_ORDER="rank",
                **extra)


def run(command, expect_ok=True, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if expect_ok and result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return result


def train(launcher, executable, data, workdir, tag):
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    exported = os.path.join(workdir, f"{tag}.onnx")
    run([*launcher, executable, "--data", data, "--steps", str(STEPS), "--metrics", metrics,
         "--save-onnx", exported, "--log-every", "0"], env=environment(), timeout=300)
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(exported).graph.initializer}
    return losses, weights


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    rng = np.random.default_rng(7)
    parts = []
    for name, array in {"x": rng.standard_normal((64, 32)).astype(np.float32),
                        "y": rng.integers(0, 10, 64).astype(np.int64)}.items():
        path = os.path.join(args.workdir, f"{name}.npy")
        np.save(path, array)
        parts.append(f"{name}={path}")
    data = ",".join(parts)
    ok = True
    for plan, flags in PLANS.items():
        executable = os.path.join(args.workdir, "mlp_" + plan.replace("=", ""))
        run([args.cleavec, MODEL, *FLAGS, *flags, "-o", executable])
        mpi_losses, mpi_weights = train(["mpirun", "--oversubscribe", "-np", "2"], executable,
                                        data, args.workdir, plan + "_mpi")
        gloo_losses, gloo_weights = train(["/usr/bin/python3", LAUNCH, "--nproc", "2", "--"],
                                          executable, data, args.workdir, plan + "_gloo")
        different = [n for n, w in mpi_weights.items() if not np.array_equal(w, gloo_weights[n])]
        good = (mpi_losses == gloo_losses and len(gloo_losses) == STEPS and not different
                and set(mpi_weights) == set(gloo_weights))
        print(f"  {plan} under mpirun and launch.py: losses "
              f"{'identical' if mpi_losses == gloo_losses else 'DIFFER'} {gloo_losses}; "
              f"{len(gloo_weights)} weights "
              f"{'identical' if not different else 'DIFFER: ' + ', '.join(different)}", flush=True)
        ok &= good
    executable = os.path.join(args.workdir, "mlp_dp2")

    # Killed once training runs (its metrics exist), not during the
    # rendezvous of a slow start.
    metrics = os.path.join(args.workdir, "killed.jsonl")
    start = time.monotonic()
    result = run(["/usr/bin/python3", LAUNCH, "--nproc", "2", "--timeout", "60", "--kill", "1@3",
                  "--kill-after", metrics, "--", executable, "--data", data, "--steps", "100000000",
                  "--log-every", "0", "--metrics", metrics],
                 expect_ok=False, env=environment(CLEAVE_COMM_TIMEOUT="30"), timeout=120)
    seconds = time.monotonic() - start
    output = result.stdout + result.stderr
    named = "lost rank 1" in output and "launch: rank 0 exited with status 3" in output
    good = named and seconds < 20 and "a hang" not in output
    print(f"  rank 1 killed after 3 s: the job ended after {seconds:.1f} s, rank 0 "
          f"{'named rank 1 and exited 3' if named else 'DID NOT name rank 1 / exit 3'}", flush=True)
    if not good:
        print(output)
    ok &= good

    for what, launch_flags, message in [
            ("MASTER_ADDR missing", ["--unset", "MASTER_ADDR"], "MASTER_ADDR is not set"),
            ("RANK=2 of 2", ["--env", "RANK=2"], "RANK='2' is not a rank of the job")]:
        result = run(["/usr/bin/python3", LAUNCH, "--nproc", "2", "--timeout", "30", *launch_flags,
                      "--", executable, "--data", data, "--steps", "1"],
                     expect_ok=False, env=environment(), timeout=60)
        output = result.stdout + result.stderr
        good = result.returncode == 1 and f"error: {message}" in output
        print(f"  {what}: exit {result.returncode}, "
              f"{'the variable is named' if good else 'UNEXPECTED:'}", flush=True)
        if not good:
            print(output)
        ok &= good
    print("gloo training:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
