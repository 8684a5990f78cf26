#!/usr/bin/python3
"""Pipeline bubble on CPU ranks: measured against the formula and the cost model.

For S stages (one MPI rank each, one thread each) and M micro-batches, an
MLP of equal layers is compiled with `cleavec --grid pp=S --micro-batches M`
(1F1B unless --schedule says otherwise) and trained for a few steps. The
executable's metrics report each stage's busy time per step (the step
function's time minus the time it waited for receives, docs/formats.md);
the measured bubble is

    1 - mean over stages(busy) / step time

and is printed next to the formula (S-1)/(M+S-1) and the bubble the cost
model predicts for the same split (`cleave-plan --format json`, the
pipeline's simulated schedule).

  /usr/bin/python3 bench/pipeline_bubble.py --build build --workdir build/bench-bubble

Ranks beyond the machine's cores share them: the waits then also measure
the other ranks' compute, so treat S > cores as a smoke test, not a
measurement (docs/benchmarks.md says which rows were measured how).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")
    return result


def mpi_env():
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def model_flags():
    return ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y", "--optimizer", "sgd",
            "--lr", "0.01"]


def predicted_bubble(cleave_plan, onnx_path, stages, micro_batches, schedule):
    result = run([cleave_plan, onnx_path, *model_flags(), "--grid", f"pp={stages}",
                  "--micro-batches", str(micro_batches), "--schedule", schedule,
                  "--format", "json"])
    report = json.loads(result.stdout)
    plan = report.get("chosen", report)
    pipeline = plan.get("pipeline") or {}
    return pipeline.get("bubble")


def measure(executable, data, workdir, tag, stages, steps):
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    run(["mpirun", "--oversubscribe", "-np", str(stages), executable, "--data", data,
         "--steps", str(steps), "--metrics", metrics, "--log-every", "0"], env=mpi_env(),
        timeout=900)
    records = [json.loads(line) for line in open(metrics)]
    # Skip the first records (warm-up); use the ones that carry busy times.
    busy = [r for r in records if r.get("stage_busy_ms") and r["step"] > 1]
    if not busy:
        return None, None
    step_ms = sum(r["step_time_ms"] for r in busy) / len(busy)
    mean_busy = sum(sum(r["stage_busy_ms"]) / len(r["stage_busy_ms"]) for r in busy) / len(busy)
    return step_ms, 1.0 - mean_busy / step_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--stages", default="2,4")
    parser.add_argument("--micro-batches", default="1,2,4,8,16")
    parser.add_argument("--schedule", default="1f1b")
    parser.add_argument("--steps", type=int, default=31)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    cleavec = os.path.join(args.build, "bin", "cleavec")
    cleave_plan = os.path.join(args.build, "bin", "cleave-plan")
    os.makedirs(args.workdir, exist_ok=True)

    import numpy as np
    onnx_path = os.path.join(args.workdir, "mlp_bench.onnx")
    hidden = ",".join([str(args.width)] * (args.layers - 1))
    run(["/usr/bin/python3", os.path.join(ROOT, "models", "gen_mlp.py"), "--in-features",
         str(args.width), "--hidden", hidden, "--classes", "10", "--batch", str(args.batch),
         "-o", onnx_path])
    rng = np.random.default_rng(0)
    x = os.path.join(args.workdir, "x.npy")
    y = os.path.join(args.workdir, "y.npy")
    np.save(x, rng.standard_normal((args.batch * 4, args.width)).astype(np.float32))
    np.save(y, rng.integers(0, 10, args.batch * 4).astype(np.int64))
    data = f"x={x},y={y}"

    print(f"MLP {args.layers} x {args.width}, batch {args.batch}, schedule {args.schedule}, "
          f"{os.cpu_count()} cores")
    print(f"{'S':>2} {'M':>3} {'step ms':>9} {'measured':>9} {'formula':>8} {'model':>8}")
    rows = []
    for stages in [int(s) for s in args.stages.split(",")]:
        for micro_batches in [int(m) for m in args.micro_batches.split(",")]:
            tag = f"s{stages}_m{micro_batches}"
            executable = os.path.join(args.workdir, tag)
            run([cleavec, onnx_path, *model_flags(), "--grid", f"pp={stages}", "--micro-batches",
                 str(micro_batches), "--schedule", args.schedule, "-o", executable])
            step_ms, measured = measure(executable, data, args.workdir, tag, stages, args.steps)
            formula = (stages - 1) / (micro_batches + stages - 1)
            model = predicted_bubble(cleave_plan, onnx_path, stages, micro_batches, args.schedule)
            rows.append(dict(stages=stages, micro_batches=micro_batches, step_ms=step_ms,
                             measured=measured, formula=formula, model=model))
            fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else "-"  # noqa: E731
            print(f"{stages:>2} {micro_batches:>3} {fmt(step_ms):>9} {fmt(measured):>9} "
                  f"{fmt(formula):>8} {fmt(model):>8}", flush=True)
    with open(os.path.join(args.workdir, "bubble.json"), "w") as out:
        json.dump(rows, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
