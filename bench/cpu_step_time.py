#!/usr/bin/python3
"""CPU training step time: Cleave's generated executable vs PyTorch eager.

Same model (generated here with models/gen_*.py), same initial weights (the
ONNX initializers), same batch, same optimizer (AdamW), same thread count (for PyTorch: its
OpenMP pool and its OpenBLAS pool, see set_pytorch_threads), measured in one
run. Prints a markdown table of median step times and the
ratio PyTorch / Cleave (> 1: Cleave is faster).

    /usr/bin/python3 bench/cpu_step_time.py --cleavec build/bin/cleavec --workdir build/bench
"""

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import gen_gpt  # noqa: E402
import gen_mlp  # noqa: E402
from common import load_onnx_weights  # noqa: E402

BENCHMARKS = {
    # name: (generator arguments, torch constructor, batch inputs maker)
    "mlp-784x1024x1024x10-b256": (
        ["gen_mlp.py", "--in-features", "784", "--hidden", "1024,1024", "--classes", "10",
         "--batch", "256"],
        lambda: gen_mlp.build_model(784, [1024, 1024], 10),
        lambda rng: ({"x": rng.standard_normal((256, 784)).astype(np.float32)},
                     rng.integers(0, 10, size=(256,), dtype=np.int64))),
    "gpt-4L-256d-T128-b8": (
        ["gen_gpt.py", "--vocab", "2048", "--block-size", "128", "--layers", "4", "--heads", "4",
         "--embd", "256", "--batch", "8", "--seq", "128"],
        lambda: gen_gpt.GPT(gen_gpt.GPTConfig(2048, 128, 4, 4, 256)),
        lambda rng: ({"idx": rng.integers(0, 2048, size=(8, 128), dtype=np.int64)},
                     rng.integers(0, 2048, size=(8, 128), dtype=np.int64))),
}


def loaded_openblas():
    """The OpenBLAS library this process (PyTorch) has loaded, or None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path)
            if "openblas" in name and ".so" in name:
                try:
                    lib = ctypes.CDLL(path)
                    lib.openblas_get_num_threads.restype = ctypes.c_int
                    return lib
                except (OSError, AttributeError):
                    continue
    return None


def set_pytorch_threads(threads):
    """torch.set_num_threads sizes PyTorch's OpenMP pool only: Debian's
    PyTorch calls the pthread build of OpenBLAS, whose own pool keeps one
    thread per core (so a "1-thread" PyTorch ran its products on 2 cores).
    Size that pool too, so both sides use `threads` cores."""
    torch.set_num_threads(threads)
    blas = loaded_openblas()
    if blas is None:
        print("warning: PyTorch's OpenBLAS not found; its BLAS thread count is not set",
              file=sys.stderr)
        return "unknown"
    blas.openblas_set_num_threads(threads)
    return blas.openblas_get_num_threads()


def time_pytorch(make_model, model_path, inputs, labels, threads, steps, warmup, pin_blas):
    if pin_blas:
        blas_threads = set_pytorch_threads(threads)
        if blas_threads != threads:
            print(f"warning: PyTorch's OpenBLAS uses {blas_threads} threads, not {threads}",
                  file=sys.stderr)
    else:
        torch.set_num_threads(threads)
    model = load_onnx_weights(make_model(), model_path)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    args = [torch.tensor(v) for v in inputs.values()]
    target = torch.tensor(labels)
    times = []
    for step in range(warmup + steps):
        if step == warmup:
            cpu_start = time.process_time()
        start = time.perf_counter()
        logits = model(*args)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / steps
    return statistics.median(times), cpu_ms


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cleave(cleavec, model_path, inputs, labels, threads, steps, warmup, work):
    exe = os.path.join(work, "train")
    subprocess.run([cleavec, model_path, "--target", "cpu", "--loss", "cross_entropy", "--labels",
                    "y", "--optimizer", "adamw", "--lr", "1e-4", "-o", exe], check=True)
    data = []
    for name, value in list(inputs.items()) + [("y", labels)]:
        path = os.path.join(work, name + ".npy")
        np.save(path, value)
        data.append(f"{name}={path}")
    metrics = os.path.join(work, "metrics.jsonl")
    # CPU time of the measured steps: a run of the warm-up steps alone is
    # subtracted, which takes out loading, set-up and warm-up.
    cpu = []
    for total in (warmup, warmup + steps):
        before = children_cpu_seconds()
        subprocess.run([exe, "--data", ",".join(data), "--steps", str(total), "--threads",
                        str(threads), "--metrics", metrics, "--log-every", "0"], check=True)
        cpu.append(children_cpu_seconds() - before)
    times = [json.loads(line)["step_time_ms"] for line in open(metrics)][warmup:]
    return statistics.median(times), (cpu[1] - cpu[0]) * 1000 / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--pytorch-blas", choices=["pinned", "default"], default="pinned",
                        help="pinned: PyTorch's OpenBLAS pool gets --threads threads too; "
                             "default: leave it at one thread per core (before 2026-11-27)")
    parser.add_argument("--models", default=",".join(BENCHMARKS),
                        help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, BLAS: {torch.__config__.show().count('OpenBLAS') and 'OpenBLAS' or 'see torch config'}"
          f", PyTorch's BLAS threads: {args.pytorch_blas}")
    rows = []
    for name in args.models.split(","):
        if name not in BENCHMARKS:
            parser.error(f"unknown model '{name}'")
        generator, make_model, make_data = BENCHMARKS[name]
        work = os.path.join(args.workdir, name)
        os.makedirs(work, exist_ok=True)
        model_path = os.path.join(work, "model.onnx")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", generator[0]),
                        *generator[1:], "-o", model_path], check=True, stdout=subprocess.DEVNULL)
        inputs, labels = make_data(np.random.default_rng(0))
        for threads in [int(t) for t in args.threads.split(",")]:
            cleave_ms, cleave_cpu = time_cleave(args.cleavec, model_path, inputs, labels, threads,
                                                args.steps, args.warmup, work)
            torch_ms, torch_cpu = time_pytorch(make_model, model_path, inputs, labels, threads,
                                               args.steps, args.warmup,
                                               args.pytorch_blas == "pinned")
            rows.append((name, threads, torch_ms, cleave_ms, torch_cpu, cleave_cpu))
            print(f"{name} threads={threads}: pytorch {torch_ms:.2f} ms, cleave {cleave_ms:.2f} ms, "
                  f"ratio {torch_ms / cleave_ms:.2f}; CPU time pytorch {torch_cpu:.2f} ms, "
                  f"cleave {cleave_cpu:.2f} ms, ratio {torch_cpu / cleave_cpu:.2f}", flush=True)
    # The CPU-time columns (all threads, mean over the measured steps) are
    # for a loaded machine, where other processes inflate wall times at
    # random; at 1 thread on an idle machine they match the wall times.
    print("\n| model | threads | PyTorch eager (ms/step) | Cleave (ms/step) | PyTorch / Cleave "
          "| CPU ms/step PyTorch | CPU ms/step Cleave | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, threads, torch_ms, cleave_ms, torch_cpu, cleave_cpu in rows:
        print(f"| {name} | {threads} | {torch_ms:.2f} | {cleave_ms:.2f} | {torch_ms / cleave_ms:.2f} "
              f"| {torch_cpu:.2f} | {cleave_cpu:.2f} | {torch_cpu / cleave_cpu:.2f} |")


if __name__ == "__main__":
    main()
