"""What the compare_*.py scripts share: the batches handed to a training
executable, its run, and the per-step loss table judged against PyTorch's.

Not meant to be run directly; the scripts import it from their own folder.
"""

import json
import os
import subprocess

import numpy as np
import onnx
from onnx import numpy_helper


def relative_error(a, b):
    """Relative L2 error of `a` against the reference `b`."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12)


def save_data(data, workdir):
    """Writes each array as WORKDIR/NAME.npy; returns the NAME=PATH entries
    of a training executable's --data flag."""
    flags = []
    for name, array in data.items():
        path = os.path.join(workdir, name + ".npy")
        np.save(path, array)
        flags.append(f"{name}={path}")
    return flags


def run_training(exe, data_flags, steps, workdir, launch=()):
    """Runs a compiled training executable (under `launch`, e.g. mpirun);
    returns its per-step losses and its trained weights by name."""
    metrics = os.path.join(workdir, "metrics.jsonl")
    trained = os.path.join(workdir, "trained.onnx")
    subprocess.run([*launch, exe, "--data", ",".join(data_flags), "--steps", str(steps),
                    "--metrics", metrics, "--save-onnx", trained, "--log-every", "0"], check=True)
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(trained).graph.initializer}
    return losses, weights


def compare_losses(theirs, ours, steps, tolerance):
    """Prints PyTorch's and Cleave's loss per step; returns how many steps
    differ by more than `tolerance` (relative), a missing step counting once."""
    failures = 0
    print(" step   pytorch       cleave        rel.err")
    for step, (reference, mine) in enumerate(zip(theirs, ours), start=1):
        error = abs(mine - reference) / abs(reference)
        bad = error > tolerance
        failures += bad
        print(f" {step:4d}  {reference:.8f}  {mine:.8f}  {error:.2e}{'  <-- too far' if bad else ''}")
    if len(ours) != steps:
        print(f"Cleave reported {len(ours)} steps, expected {steps}")
        failures += 1
    return failures
