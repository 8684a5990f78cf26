#!/usr/bin/python3
"""The same GPT written two ways gets the same plan.

models/gen_gpt.py writes the graph of PyTorch's export (weights [out, in]
behind a Transpose, bias Add first, Where(-inf) mask); models/
gen_gpt_onnx_helper.py writes it as onnx.helper users do (weights [in, out],
MatMul + bias Add, one Split, constant Reshapes, an additive -1e9 mask).
For each size and plan, cleave-plan --format json must give both the same
grid, the same layout for every parameter (transposed where the layouts
are), the same collectives (kind, axes, bytes, count) and memory per device
within 3%.

Shapes only (no weights are read), so it runs in seconds:
  /usr/bin/python3 tests/sharding/idiom_plans.py --cleave-plan build/bin/cleave-plan --workdir /tmp/ip
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMORY_TOLERANCE = 0.03

SIZES = {
    # gen_gpt's toy sizes with 4 heads, so that tp=4 could split them.
    "toy": ["--vocab", "64", "--block-size", "16", "--layers", "2", "--heads", "4", "--embd", "32",
            "--batch", "2", "--seq", "16"],
    # Large enough that tensor parallelism pays: on main before the fix the
    # helper idiom kept qkv whole under tp=4 (4 collectives, 21.3 MiB)
    # where the PyTorch idiom split it (8 collectives, 17.9 MiB).
    "medium": ["--vocab", "512", "--block-size", "64", "--layers", "2", "--heads", "8",
               "--embd", "256", "--batch", "4", "--seq", "64"],
}

PLANS = {
    "tp=4": ["--devices", "4", "--grid", "tp=4"],
    # One micro-batch keeps the configuration search to one stage (a
    # pipeline needs M >= S): the intra-op plans are what is compared. (With
    # the micro-batches free it picks pp=4 for the medium GPT for both
    # idioms, whose stages' memory then differs by 3.9%.)
    "auto": ["--devices", "4", "--micro-batches", "1"],
}


def helper_name(torch_name):
    """The onnx.helper idiom's name of a gen_gpt parameter, and whether its layout is transposed."""
    name = torch_name.removeprefix("transformer.")
    if name.endswith(".weight") and re.search(r"\.(c_attn|c_proj|c_fc)\.weight$", name):
        transposed = True
    else:
        transposed = False
    for old, new in ((".ln_1.", ".ln1."), (".ln_2.", ".ln2."), (".attn.c_attn.", ".attn.qkv."),
                     (".attn.c_proj.", ".attn.proj."), (".mlp.c_fc.", ".mlp.fc."),
                     (".mlp.c_proj.", ".mlp.proj.")):
        name = name.replace(old, new)
    return name.removesuffix(".weight") if name in ("wte.weight", "wpe.weight") else name, transposed


def transpose_spec(spec):
    dims = spec.strip("[]").split(", ")
    return "[" + ", ".join(reversed(dims)) + "]"


def generate(workdir, size):
    torch_model = os.path.join(workdir, f"gpt_torch_{size}.onnx")
    helper_model = os.path.join(workdir, f"gpt_helper_{size}.onnx")
    for script, path in (("gen_gpt.py", torch_model), ("gen_gpt_onnx_helper.py", helper_model)):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", script), *SIZES[size],
                        "--shapes-only", "-o", path], check=True, capture_output=True)
    return torch_model, helper_model


def plan(cleave_plan, model, flags):
    command = [cleave_plan, model, "--no-weights", "--cluster", "h100-sxm-8x1", "--loss",
               "cross_entropy", "--labels", "y", "--format", "json", *flags]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)}\n{result.stderr}")
    return json.loads(result.stdout)


def collectives(report):
    return sorted((c["kind"], c["axes"], c["bytes_per_device"], c["count"])
                  for c in report["collectives"])


def compare(what, torch_report, helper_report):
    failures = []
    if torch_report["grid"]["spec"] != helper_report["grid"]["spec"]:
        failures.append(f"grid {torch_report['grid']['spec']} vs {helper_report['grid']['spec']}")
    helper_params = {p["name"]: p["sharding"] for p in helper_report["parameters"]}
    for param in torch_report["parameters"]:
        name, transposed = helper_name(param["name"])
        expected = transpose_spec(param["sharding"]) if transposed else param["sharding"]
        if helper_params.get(name) != expected:
            failures.append(f"{param['name']} {param['sharding']} vs {name} {helper_params.get(name)}")
    if collectives(torch_report) != collectives(helper_report):
        failures.append(f"collectives {collectives(torch_report)} vs {collectives(helper_report)}")
    a = torch_report["memory_per_device"]["total"]
    b = helper_report["memory_per_device"]["total"]
    if abs(a - b) > MEMORY_TOLERANCE * max(a, b):
        failures.append(f"memory {a / 2**20:.2f} vs {b / 2**20:.2f} MiB")
    count = sum(c["count"] for c in torch_report["collectives"])
    status = "ok" if not failures else "FAIL: " + "; ".join(failures)
    print(f"  {what:<14} grid {helper_report['grid']['spec']:<10} collectives {count:>3}  "
          f"memory {a / 2**20:8.2f} vs {b / 2**20:8.2f} MiB  {status}", flush=True)
    return not failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleave-plan", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    ok = True
    for size in SIZES:
        torch_model, helper_model = generate(args.workdir, size)
        for name, flags in PLANS.items():
            ok &= compare(f"{size} {name}", plan(args.cleave_plan, torch_model, flags),
                          plan(args.cleave_plan, helper_model, flags))
    print("idiom plans:", "the same" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
