#!/usr/bin/python3
"""Train a committed model with Cleave and with PyTorch; require the same numbers.

PyTorch (Debian's python3-torch) is the oracle. Both sides start from the
ONNX file's initializers, see the same batches in the same order (rows
i*B .. i*B+B-1 of the data, wrapping around) and use the same optimizer
settings. Per-step losses and every final parameter (and BatchNorm running
statistic) must agree to a relative error of --tolerance (default 1e-4).
With --ignored-labels F a fraction F of the labels becomes -100 (padding,
ignored by both sides' cross-entropy), and --label-smoothing X is passed to
both.

    /usr/bin/python3 tests/numerics/compare_training.py --model gpt_toy \
        --optimizer adamw --cleavec build/bin/cleavec --workdir /tmp/cmp
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models"))
import gen_cnn  # noqa: E402
import gen_gpt  # noqa: E402
import gen_llama  # noqa: E402
import gen_mlp  # noqa: E402
from common import input_specs, load_onnx_weights  # noqa: E402
from numerics_common import compare_losses, relative_error, run_training, save_data  # noqa: E402

# Each committed model: its file, how to build the same network in
# PyTorch, and the data to train it on (inputs by ONNX name plus labels).
MODELS = {
    "mlp": ("mlp.onnx", lambda: gen_mlp.build_model(32, [64, 64], 10)),
    "gpt_toy": ("gpt_toy.onnx", lambda: gen_gpt.GPT(gen_gpt.PRESETS["toy"].config)),
    "gpt_toy_op13": ("gpt_toy_op13.onnx", lambda: gen_gpt.GPT(gen_gpt.PRESETS["toy"].config)),
    "cnn": ("cnn.onnx", lambda: gen_cnn.build_model(10)),
    # Rotary cos/sin tables and an additive causal mask as registered
    # buffers: Cleave must leave them alone (the file's cleave.frozen list).
    "llama_rope": ("llama_rope.onnx", lambda: gen_llama.Llama(gen_llama.TOY)),
}

# Token vocabulary of the language models (int64 inputs and labels).
VOCAB = {"gpt_toy": gen_gpt.PRESETS["toy"].config.vocab,
         "gpt_toy_op13": gen_gpt.PRESETS["toy"].config.vocab,
         "llama_rope": gen_llama.TOY.vocab}

OPTIMIZERS = {
    # name: (cleavec flags, torch optimizer factory); AdamW's eps comes
    # from optimizer_for.
    "adamw": (["--optimizer", "adamw", "--lr", "3e-3", "--weight-decay", "0.1"],
              lambda params: torch.optim.AdamW(params, lr=3e-3, weight_decay=0.1)),
    "sgd": (["--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--weight-decay", "0.01"],
            lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=0.01)),
}

# AdamW runs at PyTorch's default eps 1e-8, except where a parameter's
# gradient is exactly zero in exact arithmetic: the GPTs' attention key bias
# (softmax ignores a shift shared by all keys). Both implementations only
# see rounding noise of ~1e-9 there, which eps 1e-8 would amplify into
# lr-sized steps of random sign: that would compare two noise sources, not
# two implementations. eps 1e-6 keeps those steps small.
ADAMW_EPS = {"gpt_toy": 1e-6, "gpt_toy_op13": 1e-6}


def optimizer_for(model_name, optimizer):
    """(cleavec flags, torch optimizer factory) of `optimizer` for `model_name`."""
    flags, factory = OPTIMIZERS[optimizer]
    if optimizer != "adamw":
        return flags, factory
    eps = ADAMW_EPS.get(model_name, 1e-8)
    return (flags + ["--eps", repr(eps)],
            lambda params: torch.optim.AdamW(params, lr=3e-3, weight_decay=0.1, eps=eps))


def make_data(model_name, model_path, batches, rng):
    """Inputs by name plus 'y' labels, `batches` batches long."""
    data = {}
    specs = input_specs(model_path)
    for name, shape, elem_type in specs:
        rows = [shape[0] * batches] + shape[1:]
        if elem_type == onnx.TensorProto.INT64:
            vocab = VOCAB[model_name]
            data[name] = rng.integers(0, vocab, size=rows, dtype=np.int64)
        else:
            data[name] = rng.standard_normal(rows).astype(np.float32)
    first = specs[0]
    if model_name in VOCAB:
        vocab = VOCAB[model_name]
        data["y"] = rng.integers(0, vocab, size=[first[1][0] * batches] + first[1][1:], dtype=np.int64)
    else:
        data["y"] = rng.integers(0, 10, size=[first[1][0] * batches], dtype=np.int64)
    return data, first[1][0]


def train_reference(model_name, model_path, optimizer, data, batch, steps, label_smoothing=0.0):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = load_onnx_weights(MODELS[model_name][1](), model_path)
    model.train()
    opt = optimizer_for(model_name, optimizer)[1](model.parameters())
    inputs = [name for name in data if name != "y"]
    rows = len(data["y"])
    losses = []
    for step in range(steps):
        start = (step * batch) % rows
        args = [torch.tensor(data[name][start:start + batch]) for name in inputs]
        labels = torch.tensor(data["y"][start:start + batch])
        logits = model(*args)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                               label_smoothing=label_smoothing)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.detach().numpy() for k, v in model.state_dict().items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), required=True)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--strip-frozen-metadata", action="store_true",
                        help="compile a copy of the model without its metadata_props, so that "
                             "its registered buffers train as parameters (docs/training.md "
                             "shows what that costs; expected to fail)")
    parser.add_argument("--ignored-labels", type=float, default=0.0,
                        help="fraction of labels set to -100 (PyTorch's default ignore_index)")
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    args = parser.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    model_path = os.path.join(ROOT, "models", "onnx", MODELS[args.model][0])
    rng = np.random.default_rng(1234)
    batches = 4
    data, batch = make_data(args.model, model_path, batches, rng)
    if args.ignored_labels > 0:
        labels = data["y"].reshape(-1)  # a view: edits data["y"]
        labels[rng.random(labels.shape) < args.ignored_labels] = -100
        # Every batch keeps a label, or both sides' mean would be 0/0.
        first = labels[::labels.size // batches]
        first[first < 0] = 0
    data_flags = save_data(data, args.workdir)

    compiled_path = model_path
    if args.strip_frozen_metadata:
        stripped = onnx.load(model_path)
        del stripped.metadata_props[:]
        compiled_path = os.path.join(args.workdir, "stripped.onnx")
        onnx.save(stripped, compiled_path)
    exe = os.path.join(args.workdir, "train")
    subprocess.run([args.cleavec, compiled_path, "--target", "cpu", "--loss", "cross_entropy",
                    "--labels", "y", "--label-smoothing", str(args.label_smoothing),
                    *optimizer_for(args.model, args.optimizer)[0], "-o", exe], check=True)
    ours, cleave_weights = run_training(exe, data_flags, args.steps, args.workdir)

    losses, weights = train_reference(args.model, model_path, args.optimizer, data, batch, args.steps,
                                      args.label_smoothing)

    failures = 0
    ignored = np.mean(data["y"] == -100)
    print(f"{args.model} / {args.optimizer}: {args.steps} steps, {ignored:.0%} labels -100, "
          f"label smoothing {args.label_smoothing}")
    failures += compare_losses(losses, ours, args.steps, args.tolerance)
    worst = ("", 0.0)
    for name, value in cleave_weights.items():
        if name not in weights:
            continue
        error = relative_error(value, weights[name])
        worst = max(worst, (name, error), key=lambda item: item[1])
        if error > args.tolerance:
            print(f" weight {name}: relative L2 error {error:.2e}  <-- too far")
            failures += 1
    compared = sum(1 for name in cleave_weights if name in weights)
    print(f" final weights: {compared} tensors, worst relative L2 error {worst[1]:.2e} ({worst[0]})")
    print(f"numerics: {args.steps + compared - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
