#!/usr/bin/python3
"""Pipeline bubble on CPU ranks: measured against the formula and the cost model.

For S stages (one MPI rank each, one thread each) and M micro-batches, an
MLP of equal layers is compiled with `cleavec --grid pp=S --micro-batches M
--schedule 1f1b` (and `gpipe` for the stages in --gpipe-stages) and trained
for --steps steps, --repeats times. The executable's metrics report each
stage's busy time per step on its progress steps (the step function's time
minus the time it waited for receives, averaged since the previous report;
docs/formats.md); over the steps after the first,

    measured   = 1 - mean over stages(busy) / step time
    bottleneck = 1 - max over stages(busy) / step time

and, from step times alone, 1 - T1 / (S T), with T1 the step time of the
same M micro-batches on one rank (the work the S stages divide) and T the
pipeline's step time, are printed (mean and min..max over the repeats)
next to the formula
(S-1)/(M+S-1) and the bubble the cost model predicts for the same split
(`cleave-plan --format json`: `pipeline.bubble`).

  /usr/bin/python3 bench/pipeline_bubble.py --workdir /tmp/bubble

`--poll-check` instead measures what a rank costs while it waits: it runs
the S=2, M=1 program, stops one rank (SIGSTOP) for 5 s, and prints the CPU
time the other rank used meanwhile (it can only wait for its peer).

Ranks beyond the machine's free cores share them: a rank that waits gives
its core to another one, so the busy times stretch; treat S > free cores
as a smoke test of the trend, not a measurement (docs/benchmarks.md).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

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


def predicted(cleave_plan, onnx_path, stages, micro_batches, schedule):
    result = run([cleave_plan, onnx_path, *model_flags(), "--grid", f"pp={stages}",
                  "--micro-batches", str(micro_batches), "--schedule", schedule,
                  "--format", "json"])
    pipeline = json.loads(result.stdout).get("pipeline") or {}
    return pipeline.get("bubble"), [s.get("seconds") for s in pipeline.get("per_stage", [])]


def bubbles(records):
    """(measured, bottleneck, step ms, busy ms per stage) from one run's metrics.

    A record with stage_busy_ms averages the steps since the previous such
    record; the step times of the same steps are averaged to match. Step 1
    (warm-up, first allocation) is left out."""
    total_step = 0.0
    total_busy = None
    pending_steps = []
    for record in records:
        if record["step"] == 1:
            continue
        pending_steps.append(record["step_time_ms"])
        busy = record.get("stage_busy_ms")
        if not busy:
            continue
        count = len(pending_steps)
        total_step += sum(pending_steps)
        weighted = [b * count for b in busy]
        total_busy = weighted if total_busy is None else [a + b for a, b in
                                                          zip(total_busy, weighted)]
        pending_steps = []
    if not total_busy or total_step <= 0:
        return None
    mean_busy = sum(total_busy) / len(total_busy)
    return (1.0 - mean_busy / total_step, 1.0 - max(total_busy) / total_step,
            total_step, total_busy)


def schedstat(pid):
    """(ns on a CPU, ns runnable but waiting for one) of a process."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            running, waiting, _ = stat.read().split()
        return int(running), int(waiting)
    except (OSError, ValueError):
        return None


def measure(executable, data, workdir, tag, stages, steps, log_every):
    """One run. Besides the metrics, samples the ranks' /proc/PID/schedstat
    every 50 ms: the share of wall time each rank ran on a CPU and the share
    it was runnable but waited for a CPU (other work on the machine, or
    more ranks than cores); the rest it slept (its waits' sleeps)."""
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    command = ["mpirun", "--oversubscribe", "-np", str(stages), executable, "--data", data,
               "--steps", str(steps), "--metrics", metrics, "--log-every", str(log_every)]
    job = subprocess.Popen(command, env=mpi_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    first, last = {}, {}
    while job.poll() is None:
        children = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True,
                                  text=True).stdout.split()
        now = time.monotonic()
        for pid in children:
            sample = schedstat(pid)
            if sample:
                first.setdefault(pid, (now, sample))
                last[pid] = (now, sample)
        time.sleep(0.05)
    out, err = job.communicate()
    if job.returncode != 0:
        sys.exit(f"FAILED ({job.returncode}): {' '.join(command)}\n{out}\n{err}")
    with open(metrics) as lines:
        records = [json.loads(line) for line in lines]
    result = bubbles(records)
    if result is None:
        sys.exit(f"{metrics}: no stage_busy_ms after step 1 (a runtime without per-stage busy "
                 "time?)")
    measured, bottleneck, total_step, total_busy = result
    reported = max(r["step"] for r in records if "stage_busy_ms" in r)
    counted = sum(1 for r in records if 1 < r["step"] <= reported)
    shares = []
    for pid, (start, (run0, wait0)) in first.items():
        end, (run1, wait1) = last[pid]
        if end - start > 0.2:
            shares.append(((run1 - run0) / 1e9 / (end - start),
                           (wait1 - wait0) / 1e9 / (end - start)))
    on_cpu = sum(s[0] for s in shares) / len(shares) if shares else float("nan")
    runqueue = sum(s[1] for s in shares) / len(shares) if shares else float("nan")
    return dict(measured=measured, bottleneck=bottleneck, step_ms=total_step / counted,
                busy_ms=[b / counted for b in total_busy], on_cpu=on_cpu, runqueue=runqueue)


def spread(values):
    return sum(values) / len(values), min(values), max(values)


def poll_check(executable, data, seconds=5.0):
    """CPU seconds a rank uses while its peer is stopped."""
    job = subprocess.Popen(["mpirun", "--oversubscribe", "-np", "2", executable, "--data", data,
                            "--steps", "1000000", "--log-every", "100000"], env=mpi_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        children = run(["pgrep", "-P", str(job.pid)]).stdout.split()
        if len(children) != 2:
            sys.exit(f"poll check: expected 2 ranks under mpirun, found {children}")
        waiting, stopped = int(children[0]), int(children[1])

        def cpu(pid):
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        os.kill(stopped, signal.SIGSTOP)
        before, start = cpu(waiting), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu(waiting) - before, time.monotonic() - start
        os.kill(stopped, signal.SIGCONT)
        # Short stops: a wait under 0.1 s sleeps 20 us between polls (under
        # 1 ms it yields). The window's CPU also holds whatever the waiting
        # rank still computed before it reached its wait: an upper bound.
        time.sleep(0.5)
        short_used = short_elapsed = 0.0
        for _ in range(40):
            os.kill(stopped, signal.SIGSTOP)
            before, start = cpu(waiting), time.monotonic()
            time.sleep(0.05)
            short_used += cpu(waiting) - before
            short_elapsed += time.monotonic() - start
            os.kill(stopped, signal.SIGCONT)
            time.sleep(0.03)
    finally:
        job.terminate()
        job.wait()
    print(f"poll check: while its peer was stopped for {elapsed:.2f} s, the waiting rank used "
          f"{used:.2f} s of CPU ({100 * used / elapsed:.1f}% of a core)")
    print(f"poll check: in 40 stops of 50 ms ({short_elapsed:.2f} s), at most "
          f"{short_used:.2f} s of CPU ({100 * short_used / short_elapsed:.1f}% of a core; "
          f"clock ticks of {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--stages", default="2,4")
    parser.add_argument("--gpipe-stages", default="2",
                        help="stage counts also measured under GPipe ('' for none)")
    parser.add_argument("--micro-batches", default="1,2,4,8,16")
    parser.add_argument("--steps", type=int, default=41)
    parser.add_argument("--log-every", type=int, default=10,
                        help="progress steps, which carry the busy times (docs/formats.md)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--poll-check", action="store_true")
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

    def compile_program(stages, micro_batches, schedule):
        executable = os.path.join(args.workdir, f"{schedule}_s{stages}_m{micro_batches}")
        grid = ["--grid", f"pp={stages}", "--schedule", schedule] if stages > 1 else []
        run([cleavec, onnx_path, *model_flags(), *grid, "--micro-batches", str(micro_batches),
             "-o", executable])
        return executable

    def one_rank_step_ms(executable, tag):
        """The same micro-batches on one rank: the work a pipeline divides by S."""
        metrics = os.path.join(args.workdir, f"{tag}.jsonl")
        run([executable, "--data", data, "--steps", str(args.steps), "--metrics", metrics,
             "--log-every", str(args.log_every)], env=mpi_env(), timeout=900)
        with open(metrics) as lines:
            steps = [json.loads(line)["step_time_ms"] for line in lines][1:]
        return sum(steps) / len(steps)

    if args.poll_check:
        poll_check(compile_program(2, 1, "1f1b"), data)
        return 0

    points = [("1f1b", int(s)) for s in args.stages.split(",") if s]
    points += [("gpipe", int(s)) for s in args.gpipe_stages.split(",") if s]
    points = [(schedule, stages, int(m)) for schedule, stages in points
              for m in args.micro_batches.split(",")]
    programs = {point: compile_program(point[1], point[2], point[0]) for point in points}
    one_rank = {m: compile_program(1, m, "1f1b") for m in sorted({p[2] for p in points})}
    loads = [os.getloadavg()[0]]
    print(f"MLP {args.layers} x {args.width}, batch {args.batch}, {args.steps} steps x "
          f"{args.repeats} runs, {os.cpu_count()} cores")
    # Repeats go round all points, each pipeline run right after its one-rank
    # run, so that a burst of other work on the machine shows as spread.
    runs = {point: [] for point in points}
    for repeat in range(args.repeats):
        for point in points:
            schedule, stages, micro_batches = point
            tag = f"{schedule}_s{stages}_m{micro_batches}_r{repeat}"
            reference = one_rank_step_ms(one_rank[micro_batches], f"one_rank_m{micro_batches}_"
                                         f"r{repeat}_{schedule}_s{stages}")
            result = measure(programs[point], data, args.workdir, tag, stages, args.steps,
                             args.log_every)
            result["one_rank_step_ms"] = reference
            result["from_step_time"] = 1.0 - reference / (stages * result["step_ms"])
            result["load"] = os.getloadavg()[0]
            loads.append(result["load"])
            runs[point].append(result)
    print(f"1-minute load average during the runs: {min(loads):.2f} .. {max(loads):.2f}")
    print("bubble: mean (min..max over runs); bottleneck = idle share of the busiest stage; "
          "T1 = one rank's step on the same micro-batches, T = the pipeline's step; "
          "cpu, rq = mean share of a rank's wall time on a CPU, runnable but waiting for one")
    print(f"{'schedule':>8} {'S':>2} {'M':>3} {'step ms':>17} {'measured':>19} "
          f"{'bottleneck':>19} {'1 - T1/(S T)':>19} {'formula':>7} {'model':>6} {'cpu':>5} "
          f"{'rq':>5}  busy ms/stage (model ms/stage)")
    rows = []
    for point in points:
        schedule, stages, micro_batches = point
        formula = (stages - 1) / (micro_batches + stages - 1)
        model, model_stage_seconds = predicted(cleave_plan, onnx_path, stages, micro_batches,
                                               schedule)
        row = dict(schedule=schedule, stages=stages, micro_batches=micro_batches,
                   runs=runs[point], formula=formula, model=model,
                   model_stage_ms=[1e3 * s for s in model_stage_seconds if s is not None])
        rows.append(row)

        def cell(key, digits):
            mean, low, high = spread([r[key] for r in runs[point]])
            return f"{mean:.{digits}f} ({low:.{digits}f}..{high:.{digits}f})"

        def mean_of(key):
            return sum(r[key] for r in runs[point]) / len(runs[point])

        busy = [sum(r["busy_ms"][i] for r in runs[point]) / len(runs[point])
                for i in range(stages)]
        model_text = f"{model:.3f}" if isinstance(model, float) else "-"
        print(f"{schedule:>8} {stages:>2} {micro_batches:>3} {cell('step_ms', 1):>17} "
              f"{cell('measured', 3):>19} {cell('bottleneck', 3):>19} "
              f"{cell('from_step_time', 3):>19} {formula:>7.3f} "
              f"{model_text:>6} {mean_of('on_cpu'):>5.2f} {mean_of('runqueue'):>5.2f}  "
              f"{' '.join(f'{b:.1f}' for b in busy)} "
              f"({' '.join(f'{m:.1f}' for m in row['model_stage_ms'])})", flush=True)
    # On a shared machine most runs wait for CPUs; the run whose ranks
    # waited least (lowest rq) is the closest to an idle machine.
    print("\nleast disturbed run of each point (lowest rq):")
    print(f"{'schedule':>8} {'S':>2} {'M':>3} {'rq':>5} {'cpu':>5} {'T1 ms':>6} {'T ms':>6} "
          f"{'measured':>8} {'bottleneck':>10} {'1-T1/(ST)':>9} {'formula':>7} {'model':>6}")
    for row in rows:
        best = min(row["runs"], key=lambda r: r["runqueue"])
        model_text = f"{row['model']:.3f}" if isinstance(row["model"], float) else "-"
        print(f"{row['schedule']:>8} {row['stages']:>2} {row['micro_batches']:>3} "
              f"{best['runqueue']:>5.2f} {best['on_cpu']:>5.2f} {best['one_rank_step_ms']:>6.1f} "
              f"{best['step_ms']:>6.1f} {best['measured']:>8.3f} {best['bottleneck']:>10.3f} "
              f"{best['from_step_time']:>9.3f} {row['formula']:>7.3f} {model_text:>6}")
    with open(os.path.join(args.workdir, "bubble.json"), "w") as out:
        json.dump(rows, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
