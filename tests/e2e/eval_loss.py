#!/usr/bin/python3
"""Validation loss: the executable's eval_loss against PyTorch's model.eval().

For the CNN with BatchNorm (models/onnx/cnn.onnx) and a GPT with dropout 0.1
(exported here by models/gen_gpt.py), so that train and eval semantics
differ: compile with cleavec, train 3 SGD steps with --eval-data and
--eval-every 2, and require
  - an eval_loss in the metrics after steps 2 and 3 (and no others), and on
    the progress line;
  - the last eval_loss to equal, within 1e-4 relative, the mean over the
    held-out batches of F.cross_entropy of the PyTorch model in eval() mode
    holding the weights and running statistics the run exported
    (--save-onnx), labels with -100 (ignored) included;
  - that PyTorch in train() mode gives a clearly different loss (else the
    test could not tell the two semantics apart).
On one device and on 4 MPI ranks, with --grid dp=2,tp=2 and Megatron pins
(as in tests/sharding/plan_invariance.py), with ZeRO-3 (the evaluation
function gathers the parameter shards) and with the auto plan. Then the
errors: eval flags without held-out data, held-out data missing a model
input, a missing file, both kinds of held-out data, and an executable
compiled with --no-eval.

  /usr/bin/python3 tests/e2e/eval_loss.py --cleavec build/bin/cleavec --workdir /tmp/eval
"""
import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models"))
import gen_cnn  # noqa: E402
import gen_gpt  # noqa: E402
from common import load_onnx_weights  # noqa: E402

TOLERANCE = 1e-4
STEPS = 3
GPT_BATCH, GPT_SEQ = 4, 16


def run(command, expect=0, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != expect:
        sys.exit(f"FAILED (exit {result.returncode}, expected {expect}): {' '.join(command)}\n"
                 f"{result.stdout}\n{result.stderr}")
    return result


def mpi_environment():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


def gpt_config():
    return dataclasses.replace(gen_gpt.PRESETS["toy"].config, dropout=0.3)


def models(workdir):
    """name -> (ONNX file, PyTorch model factory, tensor-parallel pins)."""
    gpt_path = os.path.join(workdir, "gpt_dropout.onnx")
    if not os.path.exists(gpt_path):
        run(["/usr/bin/python3", os.path.join(ROOT, "models", "gen_gpt.py"), "--preset", "toy",
             "--batch", str(GPT_BATCH), "--seq", str(GPT_SEQ), "--dropout", "0.3",
             "--mode", "train", "--opset", "17", "-o", gpt_path])
    gpt_pins = [p for layer in (0, 1) for p in (
        f"transformer.h.{layer}.mlp.c_fc.weight=tp,-",
        f"transformer.h.{layer}.mlp.c_fc.bias=tp",
        f"transformer.h.{layer}.mlp.c_proj.weight=-,tp")]
    return {
        "cnn": (os.path.join(ROOT, "models", "onnx", "cnn.onnx"), lambda: gen_cnn.build_model(10),
                ["0.weight=tp,-,-,-", "4.weight=-,tp,-,-"]),
        "gpt": (gpt_path, lambda: gen_gpt.GPT(gpt_config()), gpt_pins),
    }


def make_data(name, rng, rows):
    if name == "cnn":
        x = rng.standard_normal((rows, 3, 32, 32)).astype(np.float32)
        y = rng.integers(0, 10, rows).astype(np.int64)
        input_name = "x"
    else:
        vocab = gen_gpt.PRESETS["toy"].config.vocab
        x = rng.integers(0, vocab, (rows, GPT_SEQ)).astype(np.int64)
        y = rng.integers(0, vocab, (rows, GPT_SEQ)).astype(np.int64)
        input_name = "idx"
    # Padding: some labels are PyTorch's ignore_index.
    flat = y.reshape(-1)
    flat[rng.random(flat.shape) < 0.2] = -100
    flat[0] = 0
    return {input_name: x, "y": y}


def save(workdir, tag, arrays):
    parts = []
    for name, array in arrays.items():
        path = os.path.join(workdir, f"{tag}_{name}.npy")
        np.save(path, array)
        parts.append(f"{name}={path}")
    return ",".join(parts)


def pytorch_losses(factory, onnx_path, arrays, batch, batches):
    """Mean per-batch loss of the exported weights in eval() and in train() mode."""
    torch.manual_seed(0)
    model = load_onnx_weights(factory(), onnx_path)
    names = [n for n in arrays if n != "y"]
    results = {}
    for mode in ("eval", "train"):
        model.train(mode == "train")
        total = 0.0
        for b in range(batches):
            rows = slice(b * batch, (b + 1) * batch)
            with torch.no_grad():
                logits = model(*[torch.tensor(arrays[n][rows]) for n in names])
                labels = torch.tensor(arrays["y"][rows])
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                         labels.reshape(-1)).item()
        results[mode] = total / batches
    return results


def check_run(name, tag, factory, workdir, exe, data, eval_data, eval_arrays, batch, ranks):
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    exported = os.path.join(workdir, f"{tag}.onnx")
    command = [exe, "--data", data, "--eval-data", eval_data, "--eval-every", "2",
               "--steps", str(STEPS), "--metrics", metrics, "--save-onnx", exported,
               "--log-every", "100"]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
    result = run(command, env=mpi_environment(), timeout=600)
    records = [json.loads(line) for line in open(metrics)]
    failures = []
    evaluated = [r["step"] for r in records if "eval_loss" in r]
    if evaluated != [2, 3]:
        failures.append(f"eval_loss after steps {evaluated}, expected [2, 3]")
    if "eval_loss" not in result.stdout:
        failures.append("the progress line has no eval_loss")
    batches = len(next(iter(eval_arrays.values()))) // batch
    reference = pytorch_losses(factory, exported, eval_arrays, batch, batches)
    ours = records[-1].get("eval_loss", float("nan"))
    error = abs(ours - reference["eval"]) / abs(reference["eval"])
    if not error <= TOLERANCE:
        failures.append(f"eval_loss {ours:.8f}, PyTorch eval() {reference['eval']:.8f}")
    spread = abs(reference["train"] - reference["eval"]) / abs(reference["eval"])
    if spread < 5 * TOLERANCE:
        failures.append(f"train() and eval() losses are only {spread:.1e} apart: the test "
                        "cannot tell the semantics apart")
    print(f"{name} {tag}: eval_loss {ours:.8f}, PyTorch eval() {reference['eval']:.8f} "
          f"(rel. error {error:.1e}), train() {reference['train']:.8f}, {batches} batches, "
          f"{ranks} rank(s){'' if not failures else '  <-- ' + '; '.join(failures)}")
    return len(failures)


def check_errors(exe, data, eval_data, workdir):
    failures = 0
    x_only = ",".join(part for part in eval_data.split(",") if not part.startswith("y="))
    cases = [
        (["--eval-every", "2"], 2, "need held-out data"),
        (["--eval-data", x_only], 1, "input 'y'"),
        (["--eval-data", x_only + ",y=" + os.path.join(workdir, "missing.npy")], 1,
         "missing.npy"),
        (["--eval-data", eval_data, "--eval-tokens", "t.bin"], 2, "give one of them"),
    ]
    for flags, status, needle in cases:
        result = subprocess.run([exe, "--data", data, "--steps", "1", "--log-every", "0", *flags],
                                capture_output=True, text=True)
        ok = result.returncode == status and needle in result.stderr
        failures += not ok
        print(f"error case {' '.join(flags)[:60]}...: exit {result.returncode}, "
              f"{result.stderr.strip().splitlines()[0] if result.stderr.strip() else '(no message)'}"
              f"{'' if ok else f'  <-- expected exit {status} and {needle!r}'}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--ranks", type=int, default=4, help="0: skip the sharded runs")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    sharded = args.ranks > 0 and shutil.which("mpirun") is not None
    rng = np.random.default_rng(11)
    failures = 0
    for name, (onnx_path, factory, pins) in models(args.workdir).items():
        batch = GPT_BATCH if name == "gpt" else 8
        data = save(args.workdir, f"{name}_train", make_data(name, rng, 4 * batch))
        eval_arrays = make_data(name, rng, 3 * batch)
        eval_data = save(args.workdir, f"{name}_eval", eval_arrays)
        flags = ["--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
                 "--optimizer", "sgd", "--lr", "0.05"]
        exe = os.path.join(args.workdir, f"{name}-train")
        run([args.cleavec, onnx_path, *flags, "-o", exe])
        failures += check_run(name, "one-device", factory, args.workdir, exe, data, eval_data,
                              eval_arrays, batch, 1)
        if name == "cnn":
            failures += check_errors(exe, data, eval_data, args.workdir)
            # cleavec --no-eval leaves the function out; the executable says so.
            bare = os.path.join(args.workdir, f"{name}-train-no-eval")
            run([args.cleavec, onnx_path, *flags, "--no-eval", "-o", bare])
            result = subprocess.run([bare, "--data", data, "--eval-data", eval_data, "--steps",
                                     "1"], capture_output=True, text=True)
            ok = result.returncode == 2 and "compiled with cleavec --no-eval" in result.stderr
            failures += not ok
            print(f"--no-eval executable with --eval-data: exit {result.returncode}, "
                  f"{result.stderr.strip().splitlines()[0] if result.stderr.strip() else ''}"
                  f"{'' if ok else '  <-- expected exit 2 naming --no-eval'}")
        if sharded:
            pinned = [flag for pin in pins for flag in ("--shard", pin)]
            plans = {"dp=2,tp=2": ["--grid", "dp=2,tp=2", *pinned],
                     "zero3": ["--devices", str(args.ranks), "--zero", "3"],
                     "auto": ["--devices", str(args.ranks)]}
            for tag, plan in plans.items():
                sharded_exe = os.path.join(args.workdir, f"{name}-train-{tag.replace(',', '-')}")
                run([args.cleavec, onnx_path, *flags, *plan, "-o", sharded_exe])
                failures += check_run(name, tag, factory, args.workdir, sharded_exe, data,
                                      eval_data, eval_arrays, batch, args.ranks)
    if not sharded:
        print("the sharded runs were skipped (--ranks 0, or no mpirun)")
    print(f"eval loss: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
