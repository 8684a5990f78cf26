#!/usr/bin/python3
"""Trains the hand-written 2-stage program on 4 MPI ranks (pp=2 x dp=2).

The first module of tests/lit/Codegen/cleave-emit-cpp.mlir (a two-layer
MLP split over two stages, with sends and receives of the activation and
its gradient, dp all-reduces of the weight gradients and SGD / momentum
updates) goes through `cleave-opt --cleave-emit-cpp`, is linked with the
runtime and trained for 6 steps; the loss of every step and the final
weights (--save-onnx) must match the same program in numpy (float64)
within 1e-4. This checks the generated transfers (matched tags and slots,
the receive buffer read as the received tensor, waits), the stage dispatch
and the "@<stage>:" tables end to end.

Skipped (77) where the runtime lacks what it needs: mpirun, the
point-to-point calls (collective::send_start) or stage lists in sharding
strings (cleave/rt/distribution.h).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

STEPS = 6
LR = 0.1


def skip(reason):
    print(f"skipped: {reason}")
    sys.exit(77)


def write_inputs(workdir):
    rng = np.random.default_rng(0)
    params = {
        "0.weight": (rng.standard_normal((8, 4)) * 0.5).astype(np.float32),
        "1.weight": (rng.standard_normal((3, 8)) * 0.5).astype(np.float32),
        "scale": rng.uniform(0.5, 1.5, 8).astype(np.float32),
    }
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [4, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["out"])], "weights", [x],
                              [out], initializer=[numpy_helper.from_array(v, k)
                                                  for k, v in params.items()])
    onnx.save(helper.make_model(graph), os.path.join(workdir, "model.onnx"))
    data_x = rng.standard_normal((16, 4)).astype(np.float32)
    data_y = rng.integers(0, 3, 16).astype(np.int64)
    np.save(os.path.join(workdir, "x.npy"), data_x)
    np.save(os.path.join(workdir, "y.npy"), data_y)
    return params, data_x, data_y


def reference(params, data_x, data_y):
    """The module's arithmetic, as written (stage 1's weight gradient reads the
    received activation before its scale); rank (pp, dp) = (0, 0) reports the
    loss that stage 1 of dp rank 0 computes."""
    w0, w1, s = (params[k].astype(np.float64) for k in ("0.weight", "1.weight", "scale"))
    m1 = np.zeros_like(w1)
    losses = []
    for step in range(STEPS):
        rows = [(4 * step + i) % len(data_x) for i in range(4)]
        g0, g1 = np.zeros_like(w0), np.zeros_like(w1)
        for dp in range(2):
            x = data_x[rows[2 * dp:2 * dp + 2]].astype(np.float64)
            y = data_y[rows[2 * dp:2 * dp + 2]]
            hs = (x @ w0.T) * s
            a0 = np.maximum(hs, 0)
            z = (a0 * s) @ w1.T
            top = z.max(1, keepdims=True)
            lse = np.log(np.exp(z - top).sum(1)) + top[:, 0]
            if dp == 0:
                losses.append((lse - z[np.arange(2), y]).sum())
            gz = np.exp(z - lse[:, None])
            gz[np.arange(2), y] -= 1
            g1 += gz.T @ a0
            g0 += (np.where(hs > 0, (gz @ w1) * s, 0) * s).T @ x
        w0 = w0 - LR * g0
        m1 = 0.9 * m1 + g1
        w1 = w1 - LR * m1
    return losses, {"0.weight": w0, "1.weight": w1, "scale": s}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cleave-opt", required=True)
    parser.add_argument("--cxx", required=True)
    parser.add_argument("--include", required=True, help="runtime/include")
    parser.add_argument("--library-dir", required=True)
    parser.add_argument("--link-flags", required=True, help="comm + CPU runtime link flags")
    parser.add_argument("--source", required=True, help="the lit test with the modules")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    if not shutil.which("mpirun"):
        skip("no mpirun")
    comm = os.path.join(args.library_dir, "libcleave_rt_comm.a")
    symbols = subprocess.run(["nm", "-C", comm], capture_output=True, text=True).stdout
    if "collective::send_start" not in symbols:
        skip("the runtime has no collective::send_start yet (point-to-point transfers)")
    with open(os.path.join(args.include, "cleave", "rt", "distribution.h")) as file:
        if "'@'" not in file.read():
            skip("the runtime reads no stage lists ('@1:') in sharding strings yet")

    os.makedirs(args.workdir, exist_ok=True)
    params, data_x, data_y = write_inputs(args.workdir)
    with open(args.source) as file:
        module = file.read().split("\n// -----\n")[0]
    module_path = os.path.join(args.workdir, "two-stage.mlir")
    with open(module_path, "w") as file:
        file.write(module)
    model = os.path.join(args.workdir, "model.onnx")
    source = subprocess.run([args.cleave_opt, module_path,
                             f"--cleave-emit-cpp=model-path={model}", "-o", os.devnull],
                            capture_output=True, text=True, check=True).stdout
    source_path = os.path.join(args.workdir, "two-stage.cpp")
    with open(source_path, "w") as file:
        file.write(source)
    program = os.path.join(args.workdir, "two-stage")
    subprocess.run([args.cxx, "-O2", "-std=c++17", "-fopenmp", "-march=x86-64-v2", source_path,
                    "-I", args.include, "-L", args.library_dir, "-o", program]
                   + args.link_flags.split(), check=True)

    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1")
    saved = os.path.join(args.workdir, "trained.onnx")
    run = subprocess.run(["mpirun", "--oversubscribe", "-np", "4", program,
                          "--data", "x=" + os.path.join(args.workdir, "x.npy"),
                          "--data", "y=" + os.path.join(args.workdir, "y.npy"),
                          "--steps", str(STEPS), "--lr", str(LR), "--log-every", "1",
                          "--save-onnx", saved],
                         capture_output=True, text=True, env=env, timeout=120)
    print(run.stdout + run.stderr)
    if run.returncode != 0:
        print(f"FAILED: the program exited with {run.returncode}")
        return 1
    losses = [float(v) for v in re.findall(r"^step \d+/\d+ \| loss ([-0-9.e+]+)", run.stdout,
                                           re.MULTILINE)]
    want_losses, want_weights = reference(params, data_x, data_y)
    failures = 0
    if len(losses) != STEPS:
        print(f"FAILED: expected {STEPS} step lines, read {len(losses)}")
        return 1
    for step, (got, want) in enumerate(zip(losses, want_losses), 1):
        ok = abs(got - want) <= 1e-4 * max(1.0, abs(want))
        failures += not ok
        print(f"{'ok' if ok else 'FAILED'}: step {step} loss {got:.6f} (numpy {want:.6f})")
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(saved).graph.initializer}
    for name, want in want_weights.items():
        error = float(np.abs(trained[name] - want).max())
        ok = error <= 1e-4
        failures += not ok
        print(f"{'ok' if ok else 'FAILED'}: {name} after {STEPS} steps, max error {error:.2e}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
