#!/usr/bin/python3
"""Element-indexing ops with indices known only at run time, against PyTorch.

The ONNX node tests give indices as constants, which the importer folds into
offsets at compile time. Here the indices are a data input, so the offsets
are computed by generated code (compiler/Importer/rules/Indexing.cpp): for
GatherElements, ScatterElements (none and add), ScatterND and GatherND
(batch_dims 1), a one-node model with loss = sum(op(...) * C) is trained for
one SGD step with lr 1 by `cleavec --loss model`; the step's loss and the
gradients (weights before minus after) must match PyTorch's to --tolerance.

    /usr/bin/python3 tests/numerics/compare_index_ops.py \\
        --cleavec build/bin/cleavec --workdir /tmp/index-ops
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def gather_nd_batch1(x, index):
    return torch.stack([x[b][tuple(index[b].reshape(-1, index.shape[-1]).T)]
                        .reshape(index.shape[1:-1] + x.shape[1 + index.shape[-1]:])
                        for b in range(x.shape[0])])


def scatter_nd(data, index, updates):
    out = data.clone()
    return out.index_put(tuple(index.reshape(-1, index.shape[-1]).T),
                         updates.reshape((-1,) + updates.shape[index.dim() - 1:]))


# name: (ONNX op, attributes, parameters, indices, torch function of
# (params..., indices with negatives wrapped))
CASES = {
    "gather_elements": ("GatherElements", {"axis": 1}, {"x": floats(3, 4)},
                        np.array([[3, 0, -1, 2, 2], [1, 1, 0, 3, -4], [2, 3, 0, 0, 1]]),
                        lambda x, i: torch.gather(x, 1, i % 4)),
    "scatter_elements": ("ScatterElements", {"axis": 0}, {"data": floats(4, 3), "u": floats(2, 3)},
                         np.array([[1, 0, 3], [-1, 2, 0]]),
                         lambda d, u, i: torch.scatter(d, 0, i % 4, u)),
    "scatter_elements_add": ("ScatterElements", {"axis": 1, "reduction": "add"},
                             {"data": floats(2, 5), "u": floats(2, 4)},
                             np.array([[0, 4, 4, 1], [2, 2, -1, 0]]),
                             lambda d, u, i: torch.scatter_add(d, 1, i % 5, u)),
    "scatter_nd": ("ScatterND", {}, {"data": floats(4, 2, 3), "u": floats(2, 2, 3)},
                   np.array([[2], [-1]]), lambda d, u, i: scatter_nd(d, i % 4, u)),
    "gather_nd": ("GatherND", {"batch_dims": 1}, {"x": floats(2, 3, 4, 2)},
                  np.array([[[0, 3], [2, -1], [1, 0]], [[2, 2], [-3, 1], [0, 0]]]),
                  lambda x, i: gather_nd_batch1(x, i % torch.tensor([3, 4]))),
}


def build(name, op, attrs, params, index, output_shape, weight):
    nodes = [helper.make_node(op, [*(["data", "i", "u"] if "data" in params else ["x", "i"])],
                              ["y"], **attrs),
             helper.make_node("Mul", ["y", "c"], ["yc"]),
             helper.make_node("ReduceSum", ["yc"], ["loss"], keepdims=0)]
    initializers = [numpy_helper.from_array(v, k) for k, v in params.items()]
    initializers.append(numpy_helper.from_array(weight, "c"))
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("i", TensorProto.INT64, list(index.shape))],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    failures = 0
    for name, (op, attrs, params, index, reference) in CASES.items():
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        output = reference(*tensors.values(), torch.tensor(index))
        weight = floats(*output.shape)
        loss = (output * torch.tensor(weight)).sum()
        loss.backward()
        # The constant C is an initializer too; it is trained but not compared.
        work = os.path.join(args.workdir, name)
        os.makedirs(work, exist_ok=True)
        model = os.path.join(work, "model.onnx")
        onnx.save(build(name, op, attrs, params, index, list(output.shape), weight), model)
        np.save(os.path.join(work, "i.npy"), index.astype(np.int64))
        exe = os.path.join(work, "train")
        subprocess.run([args.cleavec, model, "--target", "cpu", "--loss", "model", "--optimizer",
                        "sgd", "--lr", "1", "-o", exe], check=True, stdout=subprocess.DEVNULL)
        metrics, trained = os.path.join(work, "metrics.jsonl"), os.path.join(work, "trained.onnx")
        subprocess.run([exe, "--data", "i=" + os.path.join(work, "i.npy"), "--steps", "1",
                        "--metrics", metrics, "--save-onnx", trained, "--log-every", "0"],
                       check=True, stdout=subprocess.DEVNULL)
        ours = json.loads(open(metrics).readline())["loss"]
        after = {t.name: numpy_helper.to_array(t) for t in onnx.load(trained).graph.initializer}
        errors = [abs(ours - loss.item()) / max(abs(loss.item()), 1e-6)]
        for key, tensor in tensors.items():
            grad = params[key] - after[key]
            errors.append(np.abs(grad - tensor.grad.numpy()).max() /
                          max(np.abs(tensor.grad.numpy()).max(), 1e-6))
        bad = max(errors) > args.tolerance
        failures += bad
        print(f"{'FAIL' if bad else 'PASS'} {name:22s} loss {ours:.6f} (pytorch {loss.item():.6f}), "
              f"worst relative error {max(errors):.1e}")
    print(f"index ops: {len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
