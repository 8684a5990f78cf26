#!/usr/bin/python3
"""The cost model against measured steps on this machine's CPU ranks.

1. Calibrates the machine: `mpirun -np <cores> cleave-calibrate` into
   <workdir>/cluster.json (the profile every prediction below uses).
2. For each model x plan (single device, dp, ZeRO-3, tp, pp, auto) on 1-4
   ranks: compiles it (cleavec --cluster <that profile>), reads the
   predicted step from `cleave-plan --format json` (step_seconds.total),
   trains it a few steps (mpirun --oversubscribe, one thread per rank) and
   takes the median step_time_ms of the steps after the warm-up.
3. Calibrates again and prints how far the sgemm rate moved: the machine's
   load during the run, which the ratios below inherit.

Prints predicted vs measured and their ratio per cell, whether each is
within +-20%, and whether the auto plan is within 5% of the fastest plan
measured at its rank count; writes the table (markdown) for
docs/benchmarks.md. Timing claims are reported, not asserted: the exit
status is 0 unless a run fails or a number is not a sane time.

    /usr/bin/python3 bench/cost_model.py --build build
    /usr/bin/python3 bench/cost_model.py --build build --smoke   # ctest: < 60 s

On a busy machine (other processes on the cores) both the calibration and
the steps slow down, though not equally: measure on a quiet one.
"""

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")

# Megatron-style tensor-parallel pins (as tests/sharding/plan_invariance.py).
GPT_SMALL_TP = [p for layer in range(4) for p in (
    f"transformer.h.{layer}.mlp.c_fc.weight=tp,-",
    f"transformer.h.{layer}.mlp.c_fc.bias=tp",
    f"transformer.h.{layer}.mlp.c_proj.weight=-,tp")]
GPT_TOY_TP = [p for layer in range(2) for p in (
    f"transformer.h.{layer}.mlp.c_fc.weight=tp,-",
    f"transformer.h.{layer}.mlp.c_fc.bias=tp",
    f"transformer.h.{layer}.mlp.c_proj.weight=-,tp")]
MLP_TP = ["0.weight=tp,-", "0.bias=tp", "2.weight=-,tp"]

MODEL_SPECS = {
    # name: (onnx file or generator command, classes of the labels, tp pins)
    "gpt_small": ("onnx/gpt_small.onnx", 256, GPT_SMALL_TP),
    "gpt_toy": ("onnx/gpt_toy.onnx", 64, GPT_TOY_TP),
    # A product-bound step (as bench/cpu_step_time.py's MLP).
    "mlp784": (["gen_mlp.py", "--in-features", "784", "--hidden", "1024,1024", "--classes", "10",
                "--batch", "256"], 10, MLP_TP),
}


def plans_for(ranks, pins):
    shard = [flag for pin in pins for flag in ("--shard", pin)]
    if ranks == 1:
        return {"single": []}
    plans = {
        "dp": ["--devices", str(ranks), "--plan", "dp"],
        "zero3": ["--grid", f"dp={ranks}", "--zero", "3"],
        "tp": ["--grid", f"tp={ranks}"] + shard,
        "auto": ["--devices", str(ranks)],
    }
    if ranks == 2:
        plans["pp"] = ["--grid", "pp=2", "--micro-batches", "2"]
    return plans


FULL = {"models": ["gpt_small", "mlp784"], "ranks": [1, 2, 4], "steps": 20, "warmup": 5}
SMOKE = {"models": ["gpt_toy"], "ranks": [1, 2], "steps": 6, "warmup": 2}


def mpi_environment():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, env=mpi_environment(),
                            **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")
    return result


def calibrate(build, output, quick):
    ranks = max(2, os.cpu_count() or 2)
    command = ["mpirun", "-np", str(ranks), os.path.join(build, "bin", "cleave-calibrate"),
               "--output", output] + (["--quick"] if quick else [])
    start = time.perf_counter()
    result = run(command)
    seconds = time.perf_counter() - start
    profile = json.load(open(output))
    return profile, seconds, result.stderr.strip(), " ".join(command)


def model_path(name, workdir):
    source = MODEL_SPECS[name][0]
    if isinstance(source, str):
        return os.path.join(MODELS, source)
    path = os.path.join(workdir, name + ".onnx")
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(MODELS, source[0]), *source[1:], "-o",
                        path], check=True, stdout=subprocess.DEVNULL)
    return path


def make_data(batch_inputs, classes, workdir):
    """NAME=FILE.npy for every data input of the plan report (global shapes):
    token ids and labels below `classes`, floats from a normal."""
    rng = np.random.default_rng(0)
    files = []
    for tensor in batch_inputs:
        shape, kind = tensor["shape"], tensor["type"]
        if kind.startswith("i"):
            value = rng.integers(0, classes, size=shape).astype({"i64": np.int64,
                                                                 "i32": np.int32}[kind])
        else:
            value = rng.standard_normal(shape).astype(np.float32)
        path = os.path.join(workdir, f"{tensor['name']}.npy")
        np.save(path, value)
        files.append(f"{tensor['name']}={path}")
    return ",".join(files)


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(executable, data, ranks, steps, warmup, workdir):
    """(median wall seconds per step after the warm-up, the step time CPU
    time gives: CPU seconds per step and rank, times ranks / cores when
    the ranks outnumber the cores). The CPU time is that of a run of warmup + steps steps less a
    run of the warm-up alone (which takes out start-up and warm-up), over
    all ranks (rusage of the finished children) / ranks / steps: on a
    loaded machine, where other processes preempt the ranks and inflate the
    wall time, it stays near the step time of a quiet one (with one thread
    per rank; MPI's waiting spins, so it counts too)."""
    metrics = os.path.join(workdir, "metrics.jsonl")
    cpu = []
    for total in (warmup, warmup + steps):
        if os.path.exists(metrics):
            os.remove(metrics)
        command = [executable, "--data", data, "--steps", str(total), "--threads", "1",
                   "--metrics", metrics, "--log-every", "0"]
        if ranks > 1:
            command = ["mpirun", "--oversubscribe", "-np", str(ranks)] + command
        before = children_cpu_seconds()
        run(command, timeout=600)
        cpu.append(children_cpu_seconds() - before)
    times = [json.loads(line)["step_time_ms"] for line in open(metrics)][warmup:]
    # More ranks than cores share them: a step then takes each rank's CPU
    # time times ranks / cores.
    # Steps much shorter than the runs' start-up leave a difference within
    # its noise (even below 0): then there is no CPU figure (nan).
    share = max(1.0, ranks / (os.cpu_count() or 1))
    cpu_step = (cpu[1] - cpu[0]) / ranks / steps * share
    return statistics.median(times) / 1e3, cpu_step if cpu_step > 0 else math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", default=None, help="default: <build>/bench/cost_model")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny matrix (gpt_toy on 1-2 ranks, quick calibration): checks "
                             "that the bench runs and its numbers are sane, not the model")
    parser.add_argument("--models", help="comma-separated subset of: " + ", ".join(MODEL_SPECS))
    parser.add_argument("--ranks", help="comma-separated rank counts (default 1,2,4)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--table", help="write the markdown table here (default: "
                                        "<workdir>/cost_model.md)")
    args = parser.parse_args()
    config = dict(SMOKE if args.smoke else FULL)
    if args.models:
        config["models"] = args.models.split(",")
    if args.ranks:
        config["ranks"] = [int(r) for r in args.ranks.split(",")]
    config["steps"] = args.steps or config["steps"]
    config["warmup"] = args.warmup or config["warmup"]
    build = os.path.abspath(args.build)
    workdir = os.path.abspath(args.workdir or os.path.join(build, "bench", "cost_model"))
    os.makedirs(workdir, exist_ok=True)
    cleavec = os.path.join(build, "bin", "cleavec")
    cleave_plan = os.path.join(build, "bin", "cleave-plan")

    cluster = os.path.join(workdir, "cluster.json")
    profile, seconds, summary, command = calibrate(build, cluster, args.smoke)
    load = os.getloadavg()[0]
    print(f"calibration ({seconds:.1f} s, load average {load:.1f}): {command}\n{summary}",
          flush=True)
    flops_before = profile["device"]["peak_tflops"]["f32"]

    rows = []
    for model in config["models"]:
        path = model_path(model, workdir)
        _, classes, pins = MODEL_SPECS[model]
        for ranks in config["ranks"]:
            for plan, flags in plans_for(ranks, pins).items():
                work = os.path.join(workdir, f"{model}-{plan}-{ranks}")
                os.makedirs(work, exist_ok=True)
                common = [path, "--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
                          "--optimizer", "adamw", "--cluster", cluster, *flags]
                report = json.loads(run([cleave_plan, *common, "--format", "json"]).stdout)
                grid = report["grid"]["spec"]
                predicted = report["step_seconds"]["total"]
                executable = os.path.join(work, "train")
                run([cleavec, *common, "--lr", "1e-4", "-o", executable])
                data = make_data(report["batch_inputs"], classes, work)
                measured, cpu = measure(executable, data, ranks, config["steps"],
                                        config["warmup"], work)
                rows.append(dict(model=model, ranks=ranks, plan=plan, grid=grid,
                                 predicted=predicted, measured=measured, cpu=cpu,
                                 load=os.getloadavg()[0]))
                print(f"{model:10} {ranks} ranks {plan:6} ({grid}): predicted "
                      f"{predicted * 1e3:8.3f} ms, measured {measured * 1e3:8.3f} ms (CPU "
                      f"{cpu * 1e3:8.3f} ms), ratio {predicted / measured:5.2f} (to CPU "
                      f"{predicted / cpu:5.2f}), load {rows[-1]['load']:.1f}", flush=True)

    after, seconds_after, summary_after, _ = calibrate(build, os.path.join(workdir,
                                                                            "cluster-after.json"),
                                                       args.smoke)
    drift = after["device"]["peak_tflops"]["f32"] / flops_before
    print(f"calibration after the runs: sgemm rate x{drift:.2f} of the first "
          f"(load average {os.getloadavg()[0]:.1f})\n{summary_after}", flush=True)

    # The auto plan against the fastest measured plan at its rank count.
    fastest, fastest_cpu = {}, {}
    for row in rows:
        key = (row["model"], row["ranks"])
        fastest[key] = min(fastest.get(key, math.inf), row["measured"])
        fastest_cpu[key] = min(fastest_cpu.get(key, math.inf), row["cpu"])
    lines = ["| model | ranks | plan | grid | predicted (ms) | measured (ms) | predicted / "
             "measured | within 20% | auto vs fastest | step from CPU time (ms) | predicted / CPU "
             "| load |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    misses, auto_misses, insane = [], [], []
    for row in rows:
        ratio = row["predicted"] / row["measured"]
        ok = 0.8 <= ratio <= 1.2
        if not ok:
            misses.append(row)
        versus = ""
        if row["plan"] == "auto":
            slower = row["measured"] / fastest[(row["model"], row["ranks"])]
            slower_cpu = row["cpu"] / fastest_cpu[(row["model"], row["ranks"])]
            versus = f"{slower:.2f}x (CPU {slower_cpu:.2f}x)"
            if slower > 1.05:
                auto_misses.append(row)
        if not (row["predicted"] > 0 and math.isfinite(row["predicted"]) and
                0 < row["measured"] < 60):
            insane.append(row)
        lines.append(f"| {row['model']} | {row['ranks']} | {row['plan']} | {row['grid']} | "
                     f"{row['predicted'] * 1e3:.3f} | {row['measured'] * 1e3:.3f} | {ratio:.2f} | "
                     f"{'yes' if ok else 'no'} | {versus} | {row['cpu'] * 1e3:.3f} | "
                     f"{row['predicted'] / row['cpu']:.2f} | {row['load']:.1f} |")
    table = "\n".join(lines)
    print("\n" + table)
    cpu_ok = sum(1 for row in rows if 0.8 <= row["predicted"] / row["cpu"] <= 1.2)
    print(f"\n{len(rows) - len(misses)} of {len(rows)} cells within +-20% of the measured step "
          f"({cpu_ok} of the step from CPU time); auto plan within 5% "
          f"of the measured fastest: {len(rows and [r for r in rows if r['plan'] == 'auto']) - len(auto_misses)} "
          f"of {len([r for r in rows if r['plan'] == 'auto'])}; sgemm drift during the run "
          f"x{drift:.2f}")
    output = args.table or os.path.join(workdir, "cost_model.md")
    with open(output, "w") as file:
        file.write(f"Calibration: `{command}` ({seconds:.1f} s, load average {load:.1f})\n\n"
                   f"{table}\n")
    print(f"table written to {output}")
    if insane:
        sys.exit(f"not sane times: {insane}")


if __name__ == "__main__":
    main()
