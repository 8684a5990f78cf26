#!/usr/bin/python3
"""The data-parallel step with communication overlap against `--no-overlap`,
on CPU ranks.

Generates an MLP (models/gen_mlp.py) whose gradients make several buckets at
`--bucket-mb`, compiles it twice with cleavec under `--devices RANKS --plan
dp` (once as is, once with `--no-overlap`), and trains each executable
`--steps` steps under `mpirun --oversubscribe -np RANKS` with one thread per
rank (OMP_NUM_THREADS=1, `--threads 1`), alternating the two `--rounds`
times. Prints, per schedule, the median `step_time_ms` of `--metrics`
(step 1 of each run left out), the ratio overlap / blocking, and the cost
model's prediction (`cleave-plan --format json`: `step_seconds.total` and
`exposed_communication_s`, with and without `--no-overlap`).

  /usr/bin/python3 bench/overlap_step.py --build build

Collectives run on the MPI communicator's own thread (docs/runtime-comm.md):
each rank needs a second core for the overlap to hide anything, so with 2
ranks on a 2-core machine the communication thread competes with the other
rank's compute (docs/benchmarks.md, "Overlap: the dp step with and without
--no-overlap").
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

import numpy as np

from cost_model import make_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FULL = {"hidden": "1024,1024", "batch": 128, "bucket_mb": 2.0, "steps": 12, "rounds": 3}
SMOKE = {"hidden": "64,64", "batch": 16, "bucket_mb": 0.005, "steps": 3, "rounds": 1}


def environment():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")
    return env


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, env=environment(), **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")
    return result


def step_times(executable, data, ranks, steps, workdir):
    metrics = os.path.join(workdir, "metrics.jsonl")
    if os.path.exists(metrics):
        os.remove(metrics)
    run(["mpirun", "--oversubscribe", "-np", str(ranks), executable, "--data", data, "--steps",
         str(steps), "--threads", "1", "--metrics", metrics, "--log-every", "0"], timeout=600)
    times = [json.loads(line)["step_time_ms"] for line in open(metrics)]
    return times[1:]  # step 1 warms caches and allocators


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", default=None, help="default: <build>/bench/overlap_step")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny MLP, one round of 3 steps: checks that the bench runs")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--hidden", help="hidden widths for gen_mlp.py (default 1024,1024)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--bucket-mb", type=float)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    config = dict(SMOKE if args.smoke else FULL)
    for key in ("hidden", "batch", "bucket_mb", "steps", "rounds"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    build = os.path.abspath(args.build)
    workdir = os.path.abspath(args.workdir or os.path.join(build, "bench", "overlap_step"))
    os.makedirs(workdir, exist_ok=True)
    cleavec = os.path.join(build, "bin", "cleavec")
    cleave_plan = os.path.join(build, "bin", "cleave-plan")

    model = os.path.join(workdir, "mlp.onnx")
    run(["/usr/bin/python3", os.path.join(ROOT, "models", "gen_mlp.py"), "--in-features", "784",
         "--hidden", config["hidden"], "--classes", "10", "--batch", str(config["batch"]), "-o",
         model])
    common = [model, "--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
              "--optimizer", "adamw", "--devices", str(args.ranks), "--plan", "dp",
              "--bucket-mb", str(config["bucket_mb"])]
    schedules = {"overlap": [], "no-overlap": ["--no-overlap"]}
    executables, predicted = {}, {}
    for name, flags in schedules.items():
        report = json.loads(run([cleave_plan, *common, *flags, "--format", "json"]).stdout)
        predicted[name] = report["step_seconds"]
        executables[name] = os.path.join(workdir, f"train-{name}")
        run([cleavec, *common, *flags, "--lr", "1e-4", "-o", executables[name]])
    mlir = run([cleavec, *common, "--emit", "train-mlir", "-o", "-"]).stdout
    starts = len(re.findall(r"cleave\.all_reduce_start", mlir))
    blocking = len(re.findall(r"shard\.all_reduce ", mlir))
    data = make_data(report["batch_inputs"], 10, workdir)

    times = {name: [] for name in schedules}
    for round_ in range(config["rounds"]):
        for name in schedules:
            times[name] += step_times(executables[name], data, args.ranks, config["steps"],
                                      workdir)
        print(f"round {round_ + 1}: " + ", ".join(
            f"{name} {statistics.median(values):.2f} ms" for name, values in times.items()),
              flush=True)

    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    print(f"\nMLP 784-{config['hidden']}-10, batch {config['batch']}, {args.ranks} ranks x 1 "
          f"thread, --bucket-mb {config['bucket_mb']}: {starts} gradient all-reduces started "
          f"early, {blocking} blocking; {config['rounds']} rounds x {config['steps']} steps "
          f"(step 1 left out); load average {' '.join(load)}")
    print("| schedule | measured step (ms) | predicted step (ms) | predicted exposed "
          "communication (ms) | predicted communication (ms) |")
    print("|---|---:|---:|---:|---:|")
    medians = {}
    for name in schedules:
        medians[name] = statistics.median(times[name])
        p = predicted[name]
        print(f"| {name} | {medians[name]:.2f} | {p['total'] * 1e3:.2f} | "
              f"{p['exposed_communication_s'] * 1e3:.2f} | {p['communication_s'] * 1e3:.2f} |")
    print(f"\nmeasured overlap / no-overlap: {medians['overlap'] / medians['no-overlap']:.3f}; "
          f"predicted: {predicted['overlap']['total'] / predicted['no-overlap']['total']:.3f}")
    if not all(value > 0 for value in medians.values()) or starts == 0:
        sys.exit("FAILED: no step time measured or no overlapped all-reduce")
    return 0


if __name__ == "__main__":
    sys.exit(main())
