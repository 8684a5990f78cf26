#!/usr/bin/python3
"""Sequence parallelism (Megatron-SP) on 4 MPI ranks matches one device.

The toy GPT (models/onnx/gpt_toy_dynamic.onnx) under Megatron-style pins
(c_fc column-parallel, c_proj row-parallel, attention's c_proj row-parallel)
with `--sequence-parallel on`, on tp=4, dp=2,tp=2 and pp=2,tp=2 (two
micro-batches through two stages): the row-parallel
products' partial sums are reduce-scattered into sequence shards, the
norms and residual adds run on 1/tp of the rows, and the rows are gathered
before the next column-parallel product. Ten steps of AdamW must give the
one-device losses and final weights within 1e-4 relative, and the plan
must really be sequence parallel: cleave-plan's JSON marks the tp axis
(`grid.axes[].sequence_parallel`), the per-device program holds
reduce_scatters where `--sequence-parallel off` (the same pins) has none,
and its workspace peak (gradients and activations, the buffer plan's) is
smaller.

Run by ctest; by hand:
  /usr/bin/python3 tests/sharding/sequence_parallel.py --cleavec build/bin/cleavec --workdir /tmp/sp
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

from mpi_runs import SKIPPED, mpirun_missing
from plan_invariance import MODELS, MODELS_UNDER_TEST, compare, compile_model, make_data, run, train

MODEL = "gpt"
PINS = [p for layer in (0, 1) for p in (
    f"transformer.h.{layer}.mlp.c_fc.weight=tp,-",
    f"transformer.h.{layer}.mlp.c_fc.bias=tp",
    f"transformer.h.{layer}.mlp.c_proj.weight=-,tp",
    f"transformer.h.{layer}.attn.c_proj.weight=-,tp")]
# pp=2,tp=2 runs 2 micro-batches through a 2-stage 1F1B pipeline
# (docs/pipeline.md): each stage is planned and partitioned as above.
GRIDS = ("tp=4", "dp=2,tp=2", "pp=2,tp=2")


# The search (--devices) on a pinned grid with the same pins: under `on`
# its norms split their rows over tp and the row-parallel products' partial
# sums are reduce-scattered into them (a candidate of the product's group,
# SearchCosts.cpp), which must train as one device does too.
SEARCHED = ("tp=4", "dp=2,tp=2")


def plan_flags(grid, mode):
    pipeline = ["--micro-batches", "2"] if grid.startswith("pp=") else []
    return ["--grid", grid, "--sequence-parallel", mode, *pipeline] + [
        flag for pin in PINS for flag in ("--shard", pin)]


def check_plan(cleave_plan, grid, workdir, search=False):
    """The tp axis is reported sequence parallel under `on` only, and `on`
    reduce-scatters where `off` all-reduces (and, pinned, needs less
    workspace)."""
    spec = MODELS_UNDER_TEST[MODEL]
    failures, scatters, workspace = [], {}, {}
    for mode in ("on", "off"):
        devices = ["--devices", "4"] if search else []
        result = run([cleave_plan, os.path.join(MODELS, spec["onnx"]), "--target", "cpu",
                      "--loss", "cross_entropy", "--labels", "y", "--batch-size", "8",
                      "--format", "json", *devices, *plan_flags(grid, mode)])
        plan = json.loads(result.stdout)
        marked = [axis["name"] for axis in plan["grid"]["axes"] if axis.get("sequence_parallel")]
        # The search may also split rows over the axis named dp (the names
        # are labels; it splits weights there too when that is cheaper):
        # what --sequence-parallel decides is the tp axis.
        if search:
            marked = [name for name in marked if name == "tp"]
        if marked != (["tp"] if mode == "on" else []):
            failures.append(f"{mode}: axes marked sequence parallel {marked}")
        workspace[mode] = plan["memory_per_device"]["workspace"]
        scatters[mode] = sum(c["count"] for c in plan["collectives"]
                             if c["kind"] == "reduce_scatter" and c["axes"] == "tp")
    if scatters["on"] <= scatters["off"]:
        failures.append(f"reduce_scatters over tp: {scatters['on']} with on, "
                        f"{scatters['off']} with off")
    if workspace["on"] >= workspace["off"] and not search:
        failures.append(f"workspace {workspace['on']} B with on, {workspace['off']} B with off")
    status = "ok" if not failures else "FAIL: " + "; ".join(failures)
    what = ("search " if search else "") + grid + " plan is sequence parallel"
    print(f"  {what:<34} reduce_scatter over tp: "
          f"on {scatters['on']}, off {scatters['off']}; workspace on {workspace['on']} B, "
          f"off {workspace['off']} B  {status}", flush=True)
    return not failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--cleave-plan", help="default: cleave-plan next to --cleavec")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    cleave_plan = args.cleave_plan or os.path.join(os.path.dirname(args.cleavec), "cleave-plan")
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    data = make_data(args.workdir)[MODEL]
    ok = True
    single = os.path.join(args.workdir, "single")
    compile_model(args.cleavec, MODEL, [], single)
    reference, ref_onnx = train(single, data, args.workdir, "single", 1)
    for grid in GRIDS:
        ok &= check_plan(cleave_plan, grid, args.workdir)
        tag = "sp_" + grid.replace(",", "_").replace("=", "")
        executable = os.path.join(args.workdir, tag)
        compile_model(args.cleavec, MODEL, plan_flags(grid, "on"), executable)
        losses, exported = train(executable, data, args.workdir, tag, 4)
        ok &= compare(f"{grid} sequence parallel, 4 ranks", reference, losses, ref_onnx, exported)
    for grid in SEARCHED:
        ok &= check_plan(cleave_plan, grid, args.workdir, search=True)
        tag = "search_sp_" + grid.replace(",", "_").replace("=", "")
        executable = os.path.join(args.workdir, tag)
        compile_model(args.cleavec, MODEL, ["--devices", "4"] + plan_flags(grid, "on"), executable)
        losses, exported = train(executable, data, args.workdir, tag, 4)
        ok &= compare(f"search {grid} sequence parallel", reference, losses, ref_onnx, exported)
    print("sequence parallelism:", "matches one device" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
