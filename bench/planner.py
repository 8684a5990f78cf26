#!/usr/bin/python3
"""Planner benchmark: planning time and predicted step time of the auto plan
(cleavec/cleave-plan --devices N, the cost-driven search) against the best
of an exhaustive grid of Megatron-style (dp, tp) plans under the same cost
model, for GPT configurations from 125M to 39B parameters (shapes only, no
weights) on simulated H100 clusters.

Megatron-style plan for a grid dp x tp: the MLP's c_fc column-parallel and
c_proj row-parallel over tp, the attention output projection row-parallel
(the fused q/k/v projection stays whole: see docs/sharding.md, known
limits), batch over dp, ZeRO 0 or 3 over dp; tp ranges over 1, 2, 4, 8
(inside a node).

  /usr/bin/python3 bench/planner.py --build build --workdir build/bench-planner
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = [  # (label, gen_gpt preset, layers)
    ("125M", "gpt2-124m", 12),
    ("1.3B", "gpt3-1.3b", 24),
    ("13B", "gpt3-13b", 40),
    ("39B", "gpt-39b", 48),
]


def megatron_pins(layers):
    pins = []
    for i in range(layers):
        h = f"transformer.h.{i}"
        pins += [f"{h}.mlp.c_fc.weight=tp,-", f"{h}.mlp.c_fc.bias=tp",
                 f"{h}.mlp.c_proj.weight=-,tp", f"{h}.attn.c_proj.weight=-,tp"]
    return pins


def plan(build, model, devices, cluster, extra, labels="targets"):
    # With --devices the search plans (pins only constrain it); a grid plan
    # names its grid without --devices, so that it is exactly what it pins.
    count = [] if "--grid" in extra else ["--devices", str(devices)]
    command = [os.path.join(build, "bin", "cleave-plan"), model, "--no-weights", *count,
               "--cluster", cluster, "--loss", "cross_entropy", "--labels", labels,
               "--format", "json", *extra]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - start
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None, seconds, result.stderr.strip().splitlines()[-1:] or ["no output"]
    return report, seconds, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench-planner"))
    parser.add_argument("--devices", default="8,64")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--configs", default=",".join(c[0] for c in CONFIGS))
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    wanted = args.configs.split(",")
    rows = []
    for label, preset, layers in CONFIGS:
        if label not in wanted:
            continue
        model = os.path.join(args.workdir, f"{preset}-b{args.batch}.onnx")
        if not os.path.exists(model):
            subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", "gen_gpt.py"),
                            "--preset", preset, "--batch", str(args.batch), "-o", model],
                           check=True, capture_output=True)
        for devices in map(int, args.devices.split(",")):
            cluster = f"h100-sxm-8x{max(1, devices // 8)}"
            auto, auto_seconds, auto_error = plan(args.build, model, devices, cluster, [])
            best = None
            for tp in (1, 2, 4, 8):
                if devices % tp or tp > devices:
                    continue
                dp = devices // tp
                for zero in (0, 3):
                    extra = ["--grid", f"dp={dp},tp={tp}", "--zero", str(zero)]
                    if tp > 1:
                        for pin in megatron_pins(layers):
                            extra += ["--shard", pin]
                    report, _, _ = plan(args.build, model, devices, cluster, extra)
                    if report is None:
                        continue
                    # The fastest plan that fits; when none fits, the one
                    # that needs the least memory (as the search does).
                    fits = report["memory_per_device"]["fits"]
                    key = (not fits, report["step_seconds"]["total"] if fits
                           else report["memory_per_device"]["total"])
                    if best is None or key < best[0]:
                        best = (key, f"dp={dp},tp={tp},zero={zero}", report)
            row = {"model": label, "devices": devices, "cluster": cluster,
                   "planning_seconds": round(auto_seconds, 2)}
            gib = 1 << 30
            if auto is not None:
                row.update(auto_plan=auto["grid"]["spec"], auto_step=auto["step_seconds"]["total"],
                           auto_fits=auto["memory_per_device"]["fits"],
                           auto_gib=round(auto["memory_per_device"]["total"] / gib, 1))
            else:
                row.update(auto_plan="error: " + " ".join(auto_error))
            if best is not None:
                row.update(grid_best=best[1], grid_step=best[2]["step_seconds"]["total"],
                           grid_fits=best[2]["memory_per_device"]["fits"],
                           grid_gib=round(best[2]["memory_per_device"]["total"] / gib, 1))
            if auto is not None and best is not None:
                if row["auto_fits"] and row["grid_fits"]:
                    row["auto_over_grid"] = round(row["auto_step"] / row["grid_step"], 3)
                elif row["auto_fits"]:
                    row["auto_over_grid"] = "only auto fits"
                elif row["grid_fits"]:
                    row["auto_over_grid"] = "only the grid fits"
                else:
                    row["auto_over_grid"] = "neither fits (memory auto / grid %.2f)" % (
                        row["auto_gib"] / row["grid_gib"])
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| model | devices | planning (s) | auto plan | auto step (s) | GiB/device | best grid plan | "
          "grid step (s) | GiB/device | auto / grid |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    yes = {True: "", False: " (does not fit)", None: ""}
    for r in rows:
        print(f"| {r['model']} | {r['devices']} | {r['planning_seconds']} | {r.get('auto_plan')} | "
              f"{r.get('auto_step', float('nan')):.3f} | {r.get('auto_gib')}{yes[r.get('auto_fits')]} | "
              f"{r.get('grid_best')} | {r.get('grid_step', float('nan')):.3f} | "
              f"{r.get('grid_gib')}{yes[r.get('grid_fits')]} | {r.get('auto_over_grid')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
