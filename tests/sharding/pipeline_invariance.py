#!/usr/bin/python3
"""Pipeline plan invariance (issue 11, section 7): the MLP, the GPT (tied
embedding) and the CNN (BatchNorm) trained under pipeline plans on MPI CPU
ranks match one device, losses per step and every final weight (from
--save-onnx) within 1e-4 relative.

Plans: pp=2, pp=4, pp=2 x dp=2, pp=2 x tp=2 and pp=2 x dp=2 x tp=2 (tp with
Megatron-style pins; 1F1B), pp=2 x dp=2 with ZeRO-1 and ZeRO-2 (the MLP
and the GPT), interleaved 1F1B
with 2 virtual stages on pp=2, and pp=2 with a --pipeline-cuts node inside
a layer (CUTS); micro-batches M in {1, 2, 4}.

Auto plans (issue 12): the 4-layer GPT (gen_gpt.py --preset small --layers 4
--batch 16) planned by the search alone (`--devices 4 --cluster
tests/sharding/slow-link-cluster.json`, no grid, micro-batch or schedule
pin), where a pipeline across the slow link pays: the plan cleave-plan
reports must have pp > 1 (a plan without one FAILS), and it must match one
device like the pinned plans (`--models gpt4`; `--auto-only` runs just it).

Models:
  mlp5  a 5-Linear MLP (models/gen_mlp.py --hidden 64,64,64,64, generated
        into the workdir): 5 layers divide neither 2 nor 4 stages
  gpt   models/onnx/gpt_toy_dynamic.onnx at --batch-size 8: the toy GPT,
        lm_head tied to the token embedding (first and last stage)
  cnn   models/onnx/cnn.onnx: BatchNorm; 3 layers, so pp=4 and V=2 must
        be refused (checked: cleavec's message names the layer count)
  resnet models/onnx/resnet_block.onnx (torchvision's stem and two
        BasicBlocks, BatchNorm, residuals; batch 4): the CNN on pp=4 and V=2

BatchNorm's statistics are per micro-batch (and under dp per micro-batch of
each dp rank, synchronised over dp), so the BatchNorm models' reference is
the same dp and --micro-batches without the pipeline (on one device, or on
the dp ranks); one device's accumulation is checked against PyTorch's loop
by tests/numerics. The others' reference is one device on the full batch.

The default set (ctest) covers every plan and every M at least once per
model: plan i of model j runs with M = (1, 2, 4)[(i + j) % 3] (the next
that can run). --full runs the whole product (4 models x 6 plans x 3 M).
A pair that cannot run (micro-batches not dividing a batch, interleaved
with M=1) is reported as skipped with the reason, never silently.

  /usr/bin/python3 tests/sharding/pipeline_invariance.py --cleavec build/bin/cleavec \\
      --workdir /tmp/ppi [--full] [--models mlp5,gpt] [--plans pp=4] [--auto-only]
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

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing
from plan_invariance import MODELS_UNDER_TEST

# Megatron-style tensor-parallel pins for plans with a tp axis (the plan
# invariance test's): without them tp would replicate every tensor.
TP_PINS = {name: MODELS_UNDER_TEST[source]["tp_pins"]
           for name, source in (("mlp5", "mlp"), ("gpt", "gpt"), ("cnn", "cnn"),
                                ("resnet", "resnet"))}

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOLERANCE = 1e-4
STEPS = 4
BATCHES = 4  # distinct batches in the data; steps cycle through them
# SGD with momentum and weight decay (as tests/numerics/compare_micro_batches.py:
# AdamW would turn rounding noise of near-zero gradients into lr-sized steps).
SGD_FLAGS = ["--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--weight-decay", "0.01"]

# name: (grid, schedule, virtual stages)
PLANS = {
    "pp=2": ("pp=2", "1f1b", 1),
    "pp=4": ("pp=4", "1f1b", 1),
    "pp=2,dp=2": ("pp=2,dp=2", "1f1b", 1),
    "pp=2,tp=2": ("pp=2,tp=2", "1f1b", 1),
    "pp=2,dp=2,tp=2": ("pp=2,dp=2,tp=2", "1f1b", 1),
    "interleaved V=2": ("pp=2", "interleaved", 2),
    # --pipeline-cuts inside a layer (CUTS): several values cross the cut
    # (a residual stream and its branch), every one of them sent.
    "pp=2 pinned cut": ("pp=2", "1f1b", 1),
    # ZeRO over each stage's dp axis (docs/sharding.md, "ZeRO").
    "pp=2,dp=2 zero=1": ("pp=2,dp=2", "1f1b", 1),
    "pp=2,dp=2 zero=2": ("pp=2,dp=2", "1f1b", 1),
}
# The ZeRO level of a plan (none: 0), and the models its plans run on.
ZERO = {"pp=2,dp=2 zero=1": 1, "pp=2,dp=2 zero=2": 2}
ZERO_MODELS = ("mlp5", "gpt")
# ONNX nodes that end the first stage under "pp=2 pinned cut": mid-layer
# (between a Gemm and its ReLU), mid-attention (q, k, v and the residual
# stream cross), after a BatchNorm, inside a BasicBlock (its skip crosses).
CUTS = {"mlp5": "/2/Gemm", "gpt": "/h.0/attn/c_attn/Add", "cnn": "/1/BatchNormalization",
        "resnet": "/4/conv1/Conv"}
MICRO_BATCHES = (1, 2, 4)
MODELS = ("mlp5", "gpt", "cnn", "resnet")
# Layer boundaries + 1 as cleave-pipeline-split counts them (docs/pipeline.md,
# "The split"): a plan with more chunks (stages x virtual stages) must be
# refused with that count, which is checked instead of the run.
LAYERS = {"mlp5": 5, "gpt": 6, "cnn": 3}


def run(command, timeout=300, **kwargs):
    """Runs `command`; returns None, or the failure as text."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s: {' '.join(command)}"
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-6:]
        return f"exit {result.returncode}: {' '.join(command)}\n    " + "\n    ".join(tail)
    return None


class Model:
    """A model file, its compile flags and its data (BATCHES batches)."""

    def __init__(self, name, workdir, rng):
        self.name = name
        self.flags = []
        self.batch_norm = name == "cnn"
        if name == "mlp5":
            self.path = os.path.join(workdir, "mlp5.onnx")
            subprocess.run([sys.executable, os.path.join(ROOT, "models", "gen_mlp.py"),
                            "--hidden", "64,64,64,64", "-o", self.path], check=True,
                           capture_output=True)
            self.batch = 8
            data = {"x": rng.standard_normal((8 * BATCHES, 32)).astype(np.float32),
                    "y": rng.integers(0, 10, 8 * BATCHES).astype(np.int64)}
        elif name == "gpt":
            self.path = os.path.join(ROOT, "models", "onnx", "gpt_toy_dynamic.onnx")
            self.batch = 8
            self.flags = ["--batch-size", "8"]
            data = {"idx": rng.integers(0, 64, (8 * BATCHES, 16)).astype(np.int64),
                    "y": rng.integers(0, 64, (8 * BATCHES, 16)).astype(np.int64)}
        elif name == "resnet":
            self.path = os.path.join(ROOT, "models", "onnx", "resnet_block.onnx")
            self.batch = 4
            self.batch_norm = True
            data = {"x": rng.standard_normal((4 * BATCHES, 3, 32, 32)).astype(np.float32),
                    "y": rng.integers(0, 10, 4 * BATCHES).astype(np.int64)}
        else:
            self.path = os.path.join(ROOT, "models", "onnx", "cnn.onnx")
            self.batch = 8
            data = {"x": rng.standard_normal((8 * BATCHES, 3, 32, 32)).astype(np.float32),
                    "y": rng.integers(0, 10, 8 * BATCHES).astype(np.int64)}
        parts = []
        for key, array in data.items():
            path = os.path.join(workdir, f"{name}_{key}.npy")
            np.save(path, array)
            parts.append(f"{key}={path}")
        self.data = ",".join(parts)


def train(model, flags, workdir, ranks):
    """Compiles and trains; returns ((losses, weights), None) or (None, failure)."""
    os.makedirs(workdir, exist_ok=True)
    exe = os.path.join(workdir, "train")
    failure = run([ARGS.cleavec, model.path, "--target", "cpu", "--loss", "cross_entropy",
                   "--labels", "y", *SGD_FLAGS, *model.flags, *flags, "-o", exe])
    if failure:
        return None, "cleavec " + failure
    metrics = os.path.join(workdir, "metrics.jsonl")
    trained = os.path.join(workdir, "trained.onnx")
    command = [exe, "--data", model.data, "--steps", str(STEPS), "--metrics", metrics,
               "--save-onnx", trained, "--log-every", "0"]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
    # A lost transfer must fail the run, not hang ctest.
    failure = run(command, env=mpi_environment(CLEAVE_COMM_TIMEOUT="60"))
    if failure:
        return None, "run " + failure
    losses = [json.loads(line)["loss"] for line in open(metrics)]
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(trained).graph.initializer}
    return (losses, weights), None


def relative(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


def compare(reference, ours):
    """(loss error, weight error, failures) of `ours` against `reference`."""
    failures = []
    if len(ours[0]) != len(reference[0]):
        failures.append(f"{len(ours[0])} losses, expected {len(reference[0])}")
    loss_error = max((abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours[0], reference[0])),
                     default=0.0)
    if loss_error > TOLERANCE:
        failures.append(f"losses differ by {loss_error:.2e}")
    weight_error, compared = 0.0, 0
    for name, ref in reference[1].items():
        if ref.dtype.kind != "f":
            continue
        if name not in ours[1]:
            failures.append(f"weight {name} missing")
            continue
        compared += 1
        error = relative(ours[1][name], ref)
        weight_error = max(weight_error, error)
        if error > TOLERANCE:
            failures.append(f"weight {name}: relative L2 error {error:.2e}")
    if compared == 0:
        failures.append("no weights compared")
    return loss_error, weight_error, failures


SLOW_LINK = os.path.join(HERE, "slow-link-cluster.json")


def auto_pipeline_plans(workdir, rng):
    """The search's own plan of the 4-layer GPT on the slow-link profile:
    it must contain a pipeline and match one device. Returns (passed, failed)."""
    path = os.path.join(workdir, "gpt4.onnx")
    subprocess.run([sys.executable, os.path.join(ROOT, "models", "gen_gpt.py"), "--preset",
                    "small", "--layers", "4", "--batch", "16", "-o", path], check=True,
                   capture_output=True)
    model = argparse.Namespace(name="gpt4", path=path, flags=[], batch=16)
    parts = []
    for key in ("idx", "y"):
        array = os.path.join(workdir, f"gpt4_{key}.npy")
        np.save(array, rng.integers(0, 256, (16 * BATCHES, 64)).astype(np.int64))
        parts.append(f"{key}={array}")
    model.data = ",".join(parts)
    auto = ["--devices", "4", "--cluster", SLOW_LINK]
    plan = subprocess.run([ARGS.cleave_plan, path, "--target", "cpu", "--loss", "cross_entropy",
                           "--labels", "y", "--optimizer", "sgd", "--momentum", "0.9", *auto,
                           "--format", "json"], capture_output=True, text=True)
    label = f"{'gpt4':<6} {'auto slow-link':<16} {'-':>2}  "
    if plan.returncode != 0:
        print(label + "FAIL: cleave-plan: " + plan.stderr.strip()[-300:], flush=True)
        return 0, 1
    report = json.loads(plan.stdout)
    config = report.get("configuration") or {}
    spec = report["grid"]["spec"]
    stages = int(config.get("pp", grid_sizes(spec).get("pp", 1)))
    if stages < 2:
        print(label + f"FAIL: the auto plan {spec} has no pipeline (pp > 1 expected on the "
              "slow-link profile)", flush=True)
        return 0, 1
    reference, failure = train(model, [], os.path.join(workdir, "gpt4-ref"), 1)
    if failure is None:
        ours, failure = train(model, auto, os.path.join(workdir, "gpt4-auto"), 4)
    if failure:
        print(label + "FAIL: " + failure, flush=True)
        return 0, 1
    loss_error, weight_error, failures = compare(reference, ours)
    status = "ok" if not failures else "FAIL: " + "; ".join(failures[:4])
    print(f"{label}{loss_error:8.1e}  {weight_error:10.1e}  {status} (auto plan {spec}"
          f"{', M=' + str(config['micro_batches']) if 'micro_batches' in config else ''})",
          flush=True)
    return (0, 1) if failures else (1, 0)


def grid_sizes(grid):
    return {axis: int(size) for axis, size in (part.split("=") for part in grid.split(","))}


def why_not(model, plan, micro):
    """Why `model` cannot run `plan` with `micro` micro-batches, or None."""
    grid, schedule, virtual = PLANS[plan]
    sizes = grid_sizes(grid)
    dp = sizes.get("dp", 1)
    if model.batch % (dp * micro):
        return f"batch {model.batch} is not dp={dp} x M={micro} micro-batches"
    if schedule == "interleaved" and micro % sizes["pp"]:
        return f"interleaved needs M a multiple of the {sizes['pp']} stages (as Megatron-LM)"
    return None


def runs(model, plan, micro):
    """Whether the pair trains (not skipped, not a refusal for layers)."""
    grid, _, virtual = PLANS[plan]
    chunks = grid_sizes(grid)["pp"] * virtual
    return why_not(model, plan, micro) is None and chunks <= LAYERS.get(model.name, chunks)


def combinations(full, models, plans, loaded):
    """(model, plan, M) to run: the whole product, or a covering set in
    which each plan and each M (where it can run) appear once per model."""
    for j, model in enumerate(MODELS):
        if model not in models:
            continue
        chosen = []
        for i, plan in enumerate(PLANS):
            if plan not in plans or (plan in ZERO and model not in ZERO_MODELS):
                continue
            if full:
                chosen += [(plan, micro) for micro in MICRO_BATCHES]
                continue
            order = [MICRO_BATCHES[(i + j + k) % len(MICRO_BATCHES)]
                     for k in range(len(MICRO_BATCHES))]
            runnable = [m for m in order if runs(loaded[model], plan, m)]
            # None trains: the first whose refusal is checked.
            refused = [m for m in order if why_not(loaded[model], plan, m) is None]
            chosen.append((plan, (runnable or refused or order)[0]))
        for micro in MICRO_BATCHES:
            if full or any(m == micro and runs(loaded[model], p, m) for p, m in chosen):
                continue
            extra = [p for p in PLANS if p in plans and p not in ZERO and
                     runs(loaded[model], p, micro)]
            if extra:
                chosen.append((extra[0], micro))
        for plan, micro in chosen:
            yield model, plan, micro


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--cleave-plan", help="default: cleave-plan next to --cleavec")
    parser.add_argument("--auto-only", action="store_true",
                        help="only the auto plans on the slow-link profile (gpt4)")
    parser.add_argument("--full", action="store_true",
                        help="every model x plan x M (45 runs) instead of the covering set")
    parser.add_argument("--models", default=",".join(MODELS + ("gpt4",)))
    parser.add_argument("--plans", default=";".join(PLANS),
                        help="';'-separated subset of: " + "; ".join(PLANS))
    ARGS = parser.parse_args()
    ARGS.cleave_plan = ARGS.cleave_plan or os.path.join(os.path.dirname(ARGS.cleavec),
                                                        "cleave-plan")
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    models = ARGS.models.split(",")
    plans = ARGS.plans.split(";")
    rng = np.random.default_rng(11)
    loaded = {name: Model(name, ARGS.workdir, rng) for name in MODELS if name in models}
    references = {}
    failed = skipped = passed = 0
    start = time.time()
    print(f"{'model':<6} {'plan':<16} {'M':>2}  {'loss err':>8}  {'weight err':>10}  status",
          flush=True)
    for name, plan, micro in combinations(ARGS.full, [] if ARGS.auto_only else models, plans,
                                          loaded):
        model = loaded[name]
        grid, schedule, virtual = PLANS[plan]
        sizes = grid_sizes(grid)
        ranks = int(np.prod(list(sizes.values())))
        dp = sizes.get("dp", 1)
        tag = f"{name}-{plan.replace(',', '_').replace(' ', '_').replace('=', '')}-m{micro}"
        flags = ["--grid", grid, "--micro-batches", str(micro), "--schedule", schedule,
                 "--virtual-stages", str(virtual)]
        if plan == "pp=2 pinned cut":
            flags += ["--pipeline-cuts", CUTS[name]]
        if plan in ZERO:
            flags += ["--zero", str(ZERO[plan])]
        if "tp" in sizes:
            flags += [flag for pin in TP_PINS[name] for flag in ("--shard", pin)]
        reason = why_not(model, plan, micro)
        if reason:
            print(f"{name:<6} {plan:<16} {micro:>2}  skipped: {reason}", flush=True)
            skipped += 1
            continue
        chunks = sizes["pp"] * virtual
        if chunks > LAYERS.get(name, chunks):
            # More chunks than layers: cleavec must refuse, naming the count.
            expected = f"the model has {LAYERS[name]} layers"
            result = subprocess.run([ARGS.cleavec, model.path, "--target", "cpu", "--loss",
                                     "cross_entropy", "--labels", "y", *model.flags, *flags,
                                     "-o", os.path.join(ARGS.workdir, tag)],
                                    capture_output=True, text=True)
            good = result.returncode != 0 and expected in result.stderr
            print(f"{name:<6} {plan:<16} {micro:>2}  "
                  f"{'refused as expected' if good else 'FAIL: not refused'}: {chunks} chunks, "
                  f"{expected}", flush=True)
            failed += not good
            skipped += good
            continue
        # BatchNorm's statistics are per micro-batch and, under dp, per
        # micro-batch of each dp rank (synchronised over dp): the reference
        # is the same dp and M without the pipeline.
        ref_micro = micro if model.batch_norm else 1
        ref_dp = dp if model.batch_norm else 1
        key = (name, ref_micro, ref_dp)
        if key not in references:
            ref_flags = ["--micro-batches", str(ref_micro)] if ref_micro > 1 else []
            ref_flags += ["--grid", f"dp={ref_dp}"] if ref_dp > 1 else []
            references[key] = train(
                model, ref_flags, os.path.join(ARGS.workdir, f"{name}-ref-m{ref_micro}-dp{ref_dp}"),
                ref_dp)
        reference, failure = references[key]
        if failure is None:
            ours, failure = train(model, flags, os.path.join(ARGS.workdir, tag), ranks)
        else:
            failure = "one-device reference: " + failure
        if failure:
            print(f"{name:<6} {plan:<16} {micro:>2}  FAIL: {failure}", flush=True)
            failed += 1
            continue
        loss_error, weight_error, failures = compare(reference, ours)
        status = "ok" if not failures else "FAIL: " + "; ".join(failures[:4])
        print(f"{name:<6} {plan:<16} {micro:>2}  {loss_error:8.1e}  {weight_error:10.1e}  {status}",
              flush=True)
        failed += bool(failures)
        passed += not failures
    if "gpt4" in models:
        auto_passed, auto_failed = auto_pipeline_plans(ARGS.workdir, rng)
        passed += auto_passed
        failed += auto_failed
    print(f"pipeline invariance: {passed} match, {failed} failed, {skipped} skipped "
          f"({time.time() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
