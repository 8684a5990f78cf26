#!/usr/bin/python3
"""CPU training step time: Cleave's generated executable vs PyTorch eager.

Same model (generated here with models/gen_*.py), same initial weights (the
ONNX initializers), same batch, same optimizer (AdamW), same thread count,
measured in one run. Prints a markdown table of median step times and the
ratio PyTorch / Cleave (> 1: Cleave is faster).

    /usr/bin/python3 bench/cpu_step_time.py --cleavec build/bin/cleavec --workdir build/bench
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import gen_gpt  # noqa: E402
import gen_mlp  # noqa: E402

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


def time_pytorch(make_model, model_path, inputs, labels, threads, steps, warmup):
    torch.set_num_threads(threads)
    model = make_model()
    initial = {t.name: numpy_helper.to_array(t) for t in onnx.load(model_path).graph.initializer}
    state = model.state_dict()
    for name in state:
        if name in initial:
            state[name] = torch.tensor(initial[name])
    model.load_state_dict(state)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    args = [torch.tensor(v) for v in inputs.values()]
    target = torch.tensor(labels)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        logits = model(*args)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


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
    subprocess.run([exe, "--data", ",".join(data), "--steps", str(warmup + steps), "--threads",
                    str(threads), "--metrics", metrics, "--log-every", "0"], check=True)
    times = [json.loads(line)["step_time_ms"] for line in open(metrics)][warmup:]
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default=",".join(BENCHMARKS),
                        help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, BLAS: {torch.__config__.show().count('OpenBLAS') and 'OpenBLAS' or 'see torch config'}")
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
            cleave_ms = time_cleave(args.cleavec, model_path, inputs, labels, threads, args.steps,
                                    args.warmup, work)
            torch_ms = time_pytorch(make_model, model_path, inputs, labels, threads, args.steps,
                                    args.warmup)
            rows.append((name, threads, torch_ms, cleave_ms))
            print(f"{name} threads={threads}: pytorch {torch_ms:.2f} ms, cleave {cleave_ms:.2f} ms, "
                  f"ratio {torch_ms / cleave_ms:.2f}", flush=True)
    print("\n| model | threads | PyTorch eager (ms/step) | Cleave (ms/step) | PyTorch / Cleave |")
    print("|---|---|---|---|---|")
    for name, threads, torch_ms, cleave_ms in rows:
        print(f"| {name} | {threads} | {torch_ms:.2f} | {cleave_ms:.2f} | {torch_ms / cleave_ms:.2f} |")


if __name__ == "__main__":
    main()
