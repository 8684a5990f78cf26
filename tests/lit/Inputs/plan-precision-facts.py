# Prints what Tools/cleave-plan-precision.test checks, from the fp32 and bf16 JSON
# plans of the same configuration.
import json
import sys

fp32, bf16 = (json.load(open(path)) for path in sys.argv[1:3])
print("precision", fp32["precision"], bf16["precision"])
stages = [plan["pipeline"]["per_stage"][0] for plan in (fp32, bf16)]
for key, name in (("weights", "stage weights"), ("gradients", "stage gradients"),
                  ("optimizer_state", "stage optimizer state")):
    print(name, stages[0][key], stages[1][key])
parameters = stages[0]["weights"] // 4  # fp32: 4 bytes per parameter on the stage
print("weights + gradients + state per parameter",
      *[(s["weights"] + s["gradients"] + s["optimizer_state"]) / parameters for s in stages])
print("stashed activations", stages[0]["activations_in_flight"],
      stages[1]["activations_in_flight"])
print("all-reduce bytes",
      *[sorted(c["bytes_per_device"] for c in plan["collectives"] for _ in range(c["count"])
               if c["kind"] == "all_reduce") for plan in (fp32, bf16)])
print("parameters", fp32["memory_per_device"]["parameters"],
      bf16["memory_per_device"]["parameters"])
workspaces = [plan["memory_per_device"]["workspace"] for plan in (fp32, bf16)]
print("bf16 workspace is half the fp32 one:", abs(workspaces[1] / workspaces[0] - 0.5) < 0.01)
print("the executable needs the fp32 plan's memory:",
      bf16["executable_memory_per_device"] == fp32["memory_per_device"]["total"])
print("note:", bf16["precision_note"])
