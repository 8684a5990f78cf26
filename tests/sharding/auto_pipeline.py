#!/usr/bin/python3
"""The search puts a pipeline across a slow link, and the plan trains as one
device does (issue 12, section 4).

tests/sharding/slow-link-cluster.json is 2 nodes of 2 CPU ranks whose
inter-node link is slow (50 MB/s, 100 us): all-reducing a 4-layer GPT's
gradients across it costs more than the whole step's compute, sending a
micro-batch's activations does not. The test

1. prices pinned plans with cleave-plan (independent of the search): the
   pipeline pp=2,dp=2 with 4 micro-batches must be predicted more than 15%
   faster than the search's best plan on every pipeline-less grid (dp=4,
   dp=2,tp=2, tp=4, each planned by the search on that grid), and its
   collectives are priced on the links they cross: the dp gradient
   all-reduce inside a node, the loss's all-reduce over pp across them;
2. asks for the auto plan (`--devices 4 --cluster slow-link-cluster.json`,
   no other pin) from cleave-plan's JSON (`configuration`, else `grid`) and
   from cleavec's `Plan: <spec> ...` line where it prints one: it must have
   pp=2 as the grid's first axis with 2 devices per stage, so that stage 0
   is ranks 0,1 (node 0) and the only cut crosses the slow link;
3. trains the auto plan on 4 MPI ranks (4 steps of SGD with momentum and
   weight decay) and compares the losses and every final weight
   (--save-onnx) with one device, within 1e-4 relative.

When the auto plan has no pipeline, step 2 FAILS (the test exits 1, it is
not skipped), and step 3 trains the pinned pp=2,dp=2 plan instead, so that
the rest is still checked.

  /usr/bin/python3 tests/sharding/auto_pipeline.py --cleavec build/bin/cleavec --workdir /tmp/ap
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing
from plan_invariance import compare

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROFILE = os.path.join(HERE, "slow-link-cluster.json")
STEPS = 4
BATCH = 8
BATCHES = 4  # distinct batches in the data; steps cycle through them
VOCAB, SEQ = 256, 64  # gen_gpt.py's small preset
# What shapes the step (cleave-plan takes these) and what only runs it.
STEP_FLAGS = ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
              "--optimizer", "sgd", "--momentum", "0.9"]
RUN_FLAGS = ["--lr", "0.01", "--weight-decay", "0.01"]
AUTO = ["--devices", "4", "--cluster", PROFILE]
PINNED_PIPELINE = ["--grid", "pp=2,dp=2", "--micro-batches", "4", "--cluster", PROFILE]
PIPELINE_LESS = ("dp=4", "dp=2,tp=2", "tp=4")
# The pipeline must be predicted faster than 0.85 x any other. (0.8 before
# the model hid gradient buckets behind the backward: dp=2,tp=2's dp
# all-reduce across the slow link now overlaps part of its backward, 18%
# behind the pipeline instead of more than 20%.)
MARGIN = 0.85


def run(command, timeout=600, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")
    return result


def plan_json(model, flags):
    result = run([ARGS.cleave_plan, model, *STEP_FLAGS, *flags, "--format", "json"])
    return json.loads(result.stdout)


def grid_of(report):
    """[(axis, size), ...] of the plan, from `configuration` (the 3-D
    search's) where the report has it, else from the grid."""
    config = report.get("configuration")
    if config:
        axes = [(name, int(config.get(name, 1))) for name in ("pp", "dp", "tp")]
        return [(name, size) for name, size in axes if size > 1]
    return [(axis["name"], axis["size"]) for axis in report["grid"]["axes"] if axis["size"] > 1]


def spec_grid(spec):
    """The grid token of a configuration spec ('pp=2,dp=2 micro-batches=4 ...')."""
    return [(name, int(size)) for name, size in
            (axis.split("=") for axis in spec.split()[0].split(","))
            if int(size) > 1]


def two_device_all_reduce(nbytes, across):
    """The collective model's all-reduce between 2 devices (ring or tree,
    the faster) on the intra-node link, or across the nodes (the slower
    link's figures): docs/cluster.md, "Collectives"."""
    profile = json.load(open(PROFILE))
    intra, inter = profile["intra_node"], profile["inter_node"]
    efficiency = profile.get("collective_efficiency", 1)
    links = (intra, inter) if across else (intra,)
    bandwidth = min(link["bandwidth_gb_per_s"] for link in links) * 1e9 * efficiency
    latency = max(link["latency_us"] for link in links) * 1e-6
    return min(nbytes / bandwidth + 2 * latency, 2 * latency + 2 * nbytes / bandwidth)


def check_pricing(model):
    """Pinned plans on the slow-link profile: the pipeline pays, its dp
    gradient all-reduce stays inside a node and the loss's all-reduce over
    pp crosses the nodes."""
    pipeline = plan_json(model, PINNED_PIPELINE)
    step = pipeline["step_seconds"]["total"]
    ok = True
    for collective in pipeline["collectives"]:
        if collective["kind"] != "all_reduce" or collective["axes"] not in ("dp", "pp"):
            continue
        across = collective["axes"] == "pp"
        want = two_device_all_reduce(collective["bytes_per_device"], across)
        good = abs(collective["seconds_each"] - want) <= 1e-9 * want
        ok &= good
        print(f"  all_reduce over {collective['axes']} ({collective['bytes_per_device']} B) "
              f"{collective['seconds_each'] * 1e3:.3f} ms: the "
              f"{'inter' if across else 'intra'}-node link's "
              + ("ok" if good else f"FAIL: expected {want * 1e3:.3f} ms"), flush=True)
    print(f"  pp=2,dp=2 micro-batches=4 (pinned)  predicted step {step * 1e3:8.3f} ms", flush=True)
    for grid in PIPELINE_LESS:
        other = plan_json(model, ["--devices", "4", "--grid", grid, "--cluster", PROFILE])
        if any(name == "pp" and size > 1 for name, size in grid_of(other)):
            continue  # the search added a pipeline to the grid: not pipeline-less
        seconds = other["step_seconds"]["total"]
        good = step < MARGIN * seconds
        ok &= good
        print(f"  {grid:<12} (search on the grid)     predicted step {seconds * 1e3:8.3f} ms  "
              f"pipeline {100 * (1 - step / seconds):5.1f}% faster  "
              f"{'ok' if good else f'FAIL: not {100 * (1 - MARGIN):.0f}% faster'}", flush=True)
    return ok


def across_slow_link(grid):
    """Whether `grid` is a 2-stage pipeline whose stages are the 2 nodes."""
    profile = json.load(open(PROFILE))
    per_stage = 1
    for _, size in grid[1:]:
        per_stage *= size
    return (len(grid) >= 2 and grid[0] == ("pp", 2)
            and per_stage == profile["devices_per_node"])


def make_data(workdir):
    rng = np.random.default_rng(12)
    parts = []
    for name in ("idx", "y"):
        path = os.path.join(workdir, f"{name}.npy")
        np.save(path, rng.integers(0, VOCAB, (BATCH * BATCHES, SEQ)).astype(np.int64))
        parts.append(f"{name}={path}")
    return ",".join(parts)


def compile_model(model, flags, output):
    result = run([ARGS.cleavec, model, *STEP_FLAGS, *RUN_FLAGS, *flags, "-o", output])
    return result.stdout + result.stderr


def train(executable, data, tag, ranks):
    metrics = os.path.join(ARGS.workdir, f"{tag}.jsonl")
    exported = os.path.join(ARGS.workdir, f"{tag}.onnx")
    command = [executable, "--data", data, "--steps", str(STEPS), "--metrics", metrics,
               "--save-onnx", exported, "--log-every", "0"]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
    run(command, env=mpi_environment())
    return [json.loads(line)["loss"] for line in open(metrics)], exported


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--cleave-plan", help="default: cleave-plan next to --cleavec")
    parser.add_argument("--workdir", required=True)
    global ARGS
    ARGS = parser.parse_args()
    ARGS.cleave_plan = ARGS.cleave_plan or os.path.join(os.path.dirname(ARGS.cleavec),
                                                        "cleave-plan")
    if mpirun_missing():
        return SKIPPED
    start = time.time()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    model = os.path.join(ARGS.workdir, "gpt4.onnx")
    run([sys.executable, os.path.join(ROOT, "models", "gen_gpt.py"), "--preset", "small",
         "--layers", "4", "--batch", str(BATCH), "-o", model])
    data = make_data(ARGS.workdir)

    print("pricing on the slow-link profile (pinned plans):", flush=True)
    ok = check_pricing(model)

    print("the auto plan (--devices 4 --cluster slow-link-cluster.json):", flush=True)
    report = plan_json(model, AUTO)
    grid = grid_of(report)
    spec = ",".join(f"{name}={size}" for name, size in grid) or "one device"
    auto_ok = across_slow_link(grid)
    print(f"  cleave-plan chose {spec}  " + ("ok" if auto_ok else
          "FAIL: the auto plan has no pipeline across the slow link (want pp=2 first, "
          "one node per stage)"), flush=True)
    ok &= auto_ok

    single = os.path.join(ARGS.workdir, "gpt4_1")
    compile_model(model, [], single)
    reference, ref_onnx = train(single, data, "one_device", 1)
    executable = os.path.join(ARGS.workdir, "gpt4_auto" if auto_ok else "gpt4_pinned")
    output = compile_model(model, AUTO if auto_ok else PINNED_PIPELINE, executable)
    if auto_ok:
        # cleavec's own account of its plan (issue 12's `Plan: <spec> ...`).
        line = re.search(r"^Plan: (.*)$", output, re.MULTILINE)
        if line:
            same = spec_grid(line.group(1)) == grid
            print(f"  cleavec printed 'Plan: {line.group(1)}'  "
                  + ("ok" if same else f"FAIL: cleave-plan said {spec}"), flush=True)
            ok &= same
    what = f"auto {spec} on 4 ranks" if auto_ok else "pinned pp=2,dp=2 on 4 ranks"
    losses, exported = train(executable, data, "four_ranks", 4)
    ok &= compare(what, reference, losses, ref_onnx, exported)
    print(f"auto pipeline: {'ok' if ok else 'FAILED'} ({time.time() - start:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
