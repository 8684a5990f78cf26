#!/usr/bin/python3
"""Plan invariance for the ONNX ops the importer decomposes (issue 9 part 5).

A small model built here with ONNX's helper API chains reflect Pad, Conv,
HardSwish, PRelu, ReduceLogSumExp, CumSum, Einsum, then TopK, ReduceMax,
ReduceLogSumExp and ArgMax over the classes, which scale the logits (so
that the maxima change the loss: a per-row constant added to the logits
would not). It is compiled with cleavec for one device and under data
parallelism, a pinned tensor split of the conv channels (so CumSum's
triangular product and Einsum's contraction run over a split axis), pinned
splits of the classes (`head`'s columns: every max/min reduction of the
tail runs over a split axis, so its partial maxima and minima meet in
max/min all-reduces, checked in the generated code) and the auto plan on
4 ranks, trained 6 SGD steps with mpirun, and compared with the one-device
run: per-step losses and the final weights (--save-onnx) within 1e-5
relative. With --cuda, the max/min plans are also compiled and linked for
--target cuda (no GPU needed), so that the device collectives' calls
compile too.

Run by ctest; by hand:
  /usr/bin/python3 tests/sharding/decomposed_ops_invariance.py --cleavec build/bin/cleavec --workdir /tmp/doi
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing

TOLERANCE = 1e-5
STEPS = 6
CLASSES = 12
# (tag, cleavec options, ranks, the collectives the generated code must call).
MAX_MIN = ["CommReduction::max", "CommReduction::min"]
PLANS = [
    ("dp2", ["--grid", "dp=2"], 2, []),
    ("tp2", ["--grid", "tp=2", "--shard", "w=tp,-,-,-", "--shard", "slope=tp,-,-"], 2, []),
    ("classes-dp2-tp2", ["--grid", "dp=2,tp=2", "--shard", "head=-,tp"], 4, MAX_MIN),
    ("classes-tp4", ["--grid", "tp=4", "--shard", "head=-,tp"], 4, MAX_MIN),
    ("auto4", ["--devices", "4"], 4, []),
]


def build_model(path, rng):
    def init(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)
    initializers = [
        init("w", (8, 3, 3, 3), 0.3), init("slope", (8, 1, 1), 0.1),
        init("head", (8, CLASSES), 0.05),
        numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "pads"),
        numpy_helper.from_array(np.array([2], np.int64), "k"),
        numpy_helper.from_array(np.array(1, np.int64), "axis"),
        numpy_helper.from_array(np.array(0.1, np.float32), "tenth"),
        numpy_helper.from_array(np.array(0.05, np.float32), "twentieth"),
    ]
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["padded"], mode="reflect"),
        helper.make_node("Conv", ["padded", "w"], ["conv"]),
        helper.make_node("HardSwish", ["conv"], ["hs"]),
        helper.make_node("PRelu", ["hs", "slope"], ["act"]),
        helper.make_node("ReduceLogSumExp", ["act"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("CumSum", ["pooled", "axis"], ["cumulative"]),
        helper.make_node("Einsum", ["cumulative", "head"], ["scores"], equation="bc,cn->bn"),
        # Over the classes, which the classes-* plans split: a per-row
        # scale = sigmoid(mean(top 2) - logsumexp + max / 10) + argmax / 20.
        helper.make_node("TopK", ["scores", "k"], ["top", "top_indices"], axis=1),
        helper.make_node("ReduceMean", ["top"], ["top_mean"], axes=[1], keepdims=1),
        helper.make_node("ReduceLogSumExp", ["scores"], ["lse"], axes=[1], keepdims=1),
        helper.make_node("ReduceMax", ["scores"], ["best"], axes=[1], keepdims=1),
        helper.make_node("ArgMax", ["scores"], ["best_index"], axis=1, keepdims=1),
        helper.make_node("Cast", ["best_index"], ["best_position"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["top_mean", "lse"], ["gap"]),
        helper.make_node("Mul", ["best", "tenth"], ["best_tenth"]),
        helper.make_node("Add", ["gap", "best_tenth"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["gate"]),
        helper.make_node("Mul", ["best_position", "twentieth"], ["position_term"]),
        helper.make_node("Add", ["gate", "position_term"], ["scale"]),
        helper.make_node("Mul", ["scores", "scale"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "decomposed_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [8, CLASSES])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--cuda", action="store_true",
                        help="also compile the max/min plans for --target cuda")
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    os.makedirs(args.workdir, exist_ok=True)
    rng = np.random.default_rng(0)
    model = os.path.join(args.workdir, "model.onnx")
    build_model(model, rng)
    x = os.path.join(args.workdir, "x.npy")
    y = os.path.join(args.workdir, "y.npy")
    np.save(x, rng.standard_normal((32, 3, 8, 8)).astype(np.float32))
    np.save(y, rng.integers(0, CLASSES, 32).astype(np.int64))
    env = mpi_environment()

    def train(tag, extra, ranks, calls=()):
        executable = os.path.join(args.workdir, tag)
        options = [model, "--target", "cpu", "--loss", "cross_entropy", "--labels", "y",
                   "--optimizer", "sgd", "--lr", "0.002", "--batch-size", "8", *extra]
        if calls:
            # The pinned split must reach the reductions: without the max/min
            # collectives the case would not test what it claims.
            source = run([args.cleavec, *options, "--emit=cpp"]).stdout
            missing = [call for call in calls if call not in source]
            if missing:
                sys.exit(f"FAILED {tag}: the generated step calls no {', '.join(missing)}")
        run([args.cleavec, *options, "-o", executable])
        if calls and args.cuda:
            cuda_options = [o if o != "cpu" else "cuda" for o in options]
            run([args.cleavec, *cuda_options, "-o", executable + "-cuda"])
            print(f"{tag}: the --target cuda program compiles and links", flush=True)
        metrics = os.path.join(args.workdir, f"{tag}.jsonl")
        exported = os.path.join(args.workdir, f"{tag}.onnx")
        command = [executable, "--data", f"x={x},y={y}", "--steps", str(STEPS), "--metrics",
                   metrics, "--save-onnx", exported, "--log-every", "0"]
        if ranks > 1:
            command = ["mpirun", "--oversubscribe", "-np", str(ranks), *command]
        run(command, env=env, timeout=600)
        losses = [json.loads(line)["loss"] for line in open(metrics)]
        weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(exported).graph.initializer}
        return losses, weights

    reference, reference_weights = train("one", [], 1)
    print("one device: losses " + " ".join(f"{loss:.6f}" for loss in reference))
    failed = False
    for tag, extra, ranks, calls in PLANS:
        losses, weights = train(tag, extra, ranks, calls)
        loss_error = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(reference, losses))
        weight_error = max(
            float(np.abs(weights[name] - value).max() / max(np.abs(value).max(), 1e-12))
            for name, value in reference_weights.items())
        ok = len(losses) == len(reference) and loss_error <= TOLERANCE and weight_error <= TOLERANCE
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'} {tag} ({ranks} ranks): loss error {loss_error:.1e}, "
              f"weight error {weight_error:.1e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
