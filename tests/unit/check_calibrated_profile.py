#!/usr/bin/python3
"""cleave-calibrate's output: runs it (--quick, 2 ranks), then checks that
the profile it wrote loads in cleave-plan (the cluster parser cleavec uses)
and that every measured field is there and positive; the library
collectives (MPI_Iallreduce, MPI_Ireduce_scatter_block, MPI_Iallgather) are
checked in the profile's `collectives` object, or, where this build's
cluster parser does not read that object yet, in the fit lines the tool
prints.

    check_calibrated_profile.py MPIEXEC CLEAVE_CALIBRATE CLEAVE_PLAN MODEL WORKDIR
"""
import json
import os
import re
import subprocess
import sys

mpiexec, calibrate, cleave_plan, model, workdir = sys.argv[1:6]
os.makedirs(workdir, exist_ok=True)
profile_path = os.path.join(workdir, "calibrated.json")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
result = subprocess.run([mpiexec, "--oversubscribe", "-np", "2", calibrate, "--quick", "--output",
                         profile_path], capture_output=True, text=True, env=env, timeout=120)
print(result.stderr, end="")
failures = []
if result.returncode != 0:
    sys.exit(f"FAIL: cleave-calibrate exited with {result.returncode}")
profile = json.load(open(profile_path))


def positive(path):
    value = profile
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            failures.append(f"missing field {path}")
            return
        value = value[key]
    if not isinstance(value, (int, float)) or not value > 0:
        failures.append(f"{path} = {value!r}, not a positive number")


for field in ("device.peak_tflops.f32", "device.peak_tflops.bf16", "device.peak_tflops.f16",
              "device.memory_bandwidth_gb_per_s", "device.memory_gb",
              "device.compute_efficiency", "device.memory_efficiency",
              # The fixed cost per kernel and micro-batch (at least the call
              # overhead, so never 0).
              "device.kernel_launch_us",
              "intra_node.bandwidth_gb_per_s", "intra_node.latency_us", "collective_efficiency",
              "nodes", "devices_per_node"):
    positive(field)
if profile.get("collective_efficiency", 0) > 1:
    failures.append("collective_efficiency above 1")
if "2 cleave-calibrate --quick" not in profile.get("description", ""):
    failures.append("the description does not say how it was measured")

kinds = {"all_reduce": "MPI_Iallreduce", "reduce_scatter": "MPI_Ireduce_scatter_block",
         "all_gather": "MPI_Iallgather"}
if "collectives" in profile:
    if profile["collectives"].get("library") != "mpi":
        failures.append(f"collectives.library = {profile['collectives'].get('library')!r}")
    for kind in kinds:
        positive(f"collectives.{kind}.latency_us")
        positive(f"collectives.{kind}.bandwidth_gb_per_s")
else:
    if "does not read 'collectives'" not in result.stderr:
        failures.append("no collectives object and no warning saying why")
    for kind, name in kinds.items():
        fit = re.search(rf"^{name}: ([0-9.]+) us \+ ring volume / ([0-9.]+) GB/s$", result.stderr,
                        re.M)
        if not fit or not (float(fit.group(1)) > 0 and float(fit.group(2)) > 0):
            failures.append(f"no positive fit printed for {name}")

# The loader cleavec uses reads it back, with the measured rates.
plan = subprocess.run([cleave_plan, model, "--target", "cpu", "--loss", "cross_entropy",
                       "--labels", "y", "--cluster", profile_path, "--format", "json"],
                      capture_output=True, text=True)
if plan.returncode != 0:
    failures.append(f"cleave-plan does not load it: {plan.stderr.strip()}")
else:
    cluster = json.loads(plan.stdout)["cluster"]
    if cluster.get("description") != profile["description"]:
        failures.append("cleave-plan's report names another profile")

for failure in failures:
    print("FAIL:", failure)
if failures:
    sys.exit(1)
print("ok: the calibrated profile loads and every measured field is positive")
