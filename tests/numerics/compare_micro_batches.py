#!/usr/bin/python3
"""Micro-batches (cleavec --micro-batches M) against the full-batch step.

Three checks, each on losses per step AND every final weight:

  --check accumulation   M in {2, 4} on one device matches the same model
                         compiled without --micro-batches (the full batch),
                         within --tolerance (1e-5): gradient accumulation
                         of a batch-independent model is the full-batch
                         gradient.
  --check batchnorm      a BatchNorm model (cnn) with M=2 matches PyTorch's
                         own accumulation loop: per-micro-batch statistics,
                         running statistics updated once per micro-batch,
                         (loss_m / M).backward() per micro-batch, one step.
  --check data-parallel  dp=2 x M=2 on 2 MPI ranks matches one device
                         without micro-batches.
  --check pipeline       --grid GRID (a pp axis) with --micro-batches M and
                         --schedule S on the grid's ranks matches one device
                         without micro-batches (--tolerance 1e-4, the plan
                         invariance limit).
  --check resume         checkpoints cross plans: half the steps on the
                         pipeline grid then resumed on one device, and half
                         on one device then resumed on the grid, both match
                         the uninterrupted one-device run.

    /usr/bin/python3 tests/numerics/compare_micro_batches.py --check accumulation \\
        --model mlp --cleavec build/bin/cleavec --workdir /tmp/mb
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sharding"))
from common import load_onnx_weights  # noqa: E402
from compare_training import MODELS, make_data  # noqa: E402
from mpi_runs import SKIPPED, mpi_environment, mpirun_missing  # noqa: E402
from numerics_common import compare_losses, relative_error, run_training, save_data  # noqa: E402

# Batch-independent models (no BatchNorm): accumulation must give the
# full-batch step. convnext_block is the CNN (LayerNorm, per sample).
FILES = {"mlp": "mlp.onnx", "gpt_toy": "gpt_toy.onnx", "convnext_block": "convnext_block.onnx",
         "cnn": "cnn.onnx"}
# SGD with momentum and weight decay: AdamW divides by the gradient's own
# magnitude, which turns rounding noise in near-zero gradients into
# lr-sized steps and would compare noise, not accumulation.
SGD_FLAGS = ["--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--weight-decay", "0.01"]


def compile_and_train(cleavec, model_path, flags, data_flags, steps, workdir, launch=()):
    os.makedirs(workdir, exist_ok=True)
    exe = os.path.join(workdir, "train")
    subprocess.run([cleavec, model_path, "--target", "cpu", "--loss", "cross_entropy",
                    "--labels", "y", *SGD_FLAGS, *flags, "-o", exe], check=True)
    env = mpi_environment() if launch else None
    if env is not None:
        os.environ.update(env)
    return run_training(exe, data_flags, steps, workdir, launch)


def compare(reference, ours, steps, tolerance):
    """Failures between two (losses, weights) pairs."""
    failures = compare_losses(reference[0], ours[0], steps, tolerance)
    worst = ("", 0.0)
    compared = 0
    for name, value in ours[1].items():
        if name not in reference[1]:
            continue
        compared += 1
        error = relative_error(value, reference[1][name])
        worst = max(worst, (name, error), key=lambda item: item[1])
        if error > tolerance:
            print(f" weight {name}: relative L2 error {error:.2e}  <-- too far")
            failures += 1
    if compared == 0:
        print(" no weights to compare")
        failures += 1
    print(f" final weights: {compared} tensors, worst relative L2 error {worst[1]:.2e} ({worst[0]})")
    return failures


def compile_only(cleavec, model_path, flags, workdir):
    os.makedirs(workdir, exist_ok=True)
    exe = os.path.join(workdir, "train")
    subprocess.run([cleavec, model_path, "--target", "cpu", "--loss", "cross_entropy",
                    "--labels", "y", *SGD_FLAGS, *flags, "-o", exe], check=True)
    return exe


def train_until(exe, data_flags, steps, checkpoints, workdir, launch=(), resume=False):
    """Trains to `steps` writing checkpoints (resuming from them); returns
    the losses of the steps this run made and the final weights."""
    metrics = os.path.join(workdir, f"metrics-{steps}.jsonl")
    trained = os.path.join(workdir, "trained.onnx")
    if os.path.exists(metrics):
        os.remove(metrics)
    env = mpi_environment()
    subprocess.run([*launch, exe, "--data", ",".join(data_flags), "--steps", str(steps),
                    "--checkpoint-dir", checkpoints, *(["--resume"] if resume else []),
                    "--metrics", metrics, "--save-onnx", trained, "--log-every", "0"],
                   check=True, env=env)
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(trained).graph.initializer}
    return losses, weights


def make_inputs(model, model_path, rng):
    """compare_training's data (4 batches): tokens for the GPT, else floats
    and 10 classes."""
    return make_data("gpt_toy" if model == "gpt_toy" else "mlp", model_path, 4, rng)


def torch_accumulation(model_path, data, batch, micro_batches, steps):
    """PyTorch's accumulation loop on the committed cnn (BatchNorm)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = load_onnx_weights(MODELS["cnn"][1](), model_path)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.01)
    rows = len(data["y"])
    size = batch // micro_batches
    losses = []
    for step in range(steps):
        start = (step * batch) % rows
        opt.zero_grad()
        total = 0.0
        for m in range(micro_batches):
            begin = start + m * size
            x = torch.tensor(data["x"][begin:begin + size])
            y = torch.tensor(data["y"][begin:begin + size])
            loss = F.cross_entropy(model(x), y) / micro_batches
            loss.backward()
            total += loss.item()
        opt.step()
        losses.append(total)
    return losses, {k: v.detach().numpy() for k, v in model.state_dict().items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check",
                        choices=["accumulation", "batchnorm", "data-parallel", "pipeline",
                                 "resume"],
                        required=True)
    parser.add_argument("--grid", default="pp=2", help="pipeline: the grid")
    parser.add_argument("--micro-batches", type=int, default=2, help="pipeline: M")
    parser.add_argument("--schedule", default="1f1b", help="pipeline: the schedule")
    parser.add_argument("--virtual-stages", type=int, default=1, help="pipeline: V")
    parser.add_argument("--plan", default="--grid dp=2",
                        help="data-parallel: the 2-rank plan's flags (e.g. '--devices 2', "
                             "'--grid dp=2 --zero 2')")
    parser.add_argument("--reference-micro-batches", action="store_true",
                        help="pipeline: compare with one device at the same --micro-batches "
                             "(BatchNorm: per-micro-batch statistics) instead of the full batch")
    parser.add_argument("--model", choices=sorted(FILES), default="mlp")
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()

    if args.check in ("data-parallel", "pipeline", "resume") and mpirun_missing():
        return SKIPPED
    os.makedirs(args.workdir, exist_ok=True)
    model_path = os.path.join(ROOT, "models", "onnx", FILES[args.model])
    rng = np.random.default_rng(1234)
    data, batch = make_inputs(args.model, model_path, rng)
    data_flags = save_data(data, args.workdir)
    run = lambda name, flags, launch=(): compile_and_train(  # noqa: E731
        args.cleavec, model_path, flags, data_flags, args.steps,
        os.path.join(args.workdir, name), launch)

    failures = 0
    if args.check == "accumulation":
        full = run("full", [])
        # gpt_toy's batch is 2 sequences: M=4 does not divide it.
        for m in [m for m in (2, 4) if batch % m == 0]:
            print(f"{args.model}: --micro-batches {m} against the full batch, {args.steps} steps")
            failures += compare(full, run(f"m{m}", ["--micro-batches", str(m)]), args.steps,
                                args.tolerance)
    elif args.check == "batchnorm":
        print(f"cnn: --micro-batches 2 against PyTorch's accumulation loop, {args.steps} steps")
        reference = torch_accumulation(model_path, data, batch, 2, args.steps)
        failures += compare(reference, run("m2", ["--micro-batches", "2"]), args.steps,
                            args.tolerance)
    elif args.check == "resume":
        full = run("full", [])
        ranks = 1
        for axis in args.grid.split(","):
            ranks *= int(axis.split("=")[1])
        launch = ("mpirun", "--oversubscribe", "-np", str(ranks))
        one = compile_only(args.cleavec, model_path, [], os.path.join(args.workdir, "one"))
        grid = compile_only(args.cleavec, model_path,
                            ["--grid", args.grid, "--micro-batches", str(args.micro_batches),
                             "--schedule", args.schedule, "--virtual-stages",
                             str(args.virtual_stages)], os.path.join(args.workdir, "grid"))
        half = args.steps // 2
        for name, first, first_launch, second, second_launch in (
                ("grid then one device", grid, launch, one, ()),
                ("one device then grid", one, (), grid, launch)):
            work = os.path.join(args.workdir, name.replace(" ", "-"))
            checkpoints = os.path.join(work, "checkpoints")
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            train_until(first, data_flags, half, checkpoints, work, first_launch)
            losses, weights = train_until(second, data_flags, args.steps, checkpoints, work,
                                          second_launch, resume=True)
            print(f"{args.model}: {half} steps, checkpoint, {args.steps - half} more: {name}")
            failures += compare((full[0][half:], full[1]), (losses, weights),
                                args.steps - half, args.tolerance)
    elif args.check == "pipeline":
        full = run("full", ["--micro-batches", str(args.micro_batches)]
                   if args.reference_micro_batches else [])
        ranks = 1
        for axis in args.grid.split(","):
            ranks *= int(axis.split("=")[1])
        flags = ["--grid", args.grid, "--micro-batches", str(args.micro_batches),
                 "--schedule", args.schedule, "--virtual-stages", str(args.virtual_stages)]
        print(f"{args.model}: {' '.join(flags)} on {ranks} ranks against one device")
        launch = ("mpirun", "--oversubscribe", "-np", str(ranks))
        failures += compare(full, run("pipeline", flags, launch), args.steps, args.tolerance)
    else:
        full = run("full", [])
        print(f"{args.model}: {args.plan} --micro-batches 2 on 2 ranks against one device")
        launch = ("mpirun", "--oversubscribe", "-np", "2")
        failures += compare(full, run("dp2m2", [*args.plan.split(), "--micro-batches", "2"], launch),
                            args.steps, args.tolerance)
    print(f"micro-batches: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
