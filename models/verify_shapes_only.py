#!/usr/bin/python3
"""Check that gen_gpt.py's shapes-only builder reproduces the PyTorch export.

For each opset 13..17 a small GPT is exported with torch.onnx.export (train
mode) and rebuilt with ShapesOnlyBuilder; the two graphs must agree node for
node (name, op type, attributes, inputs up to renaming of intermediate
values) and
in initializer names/shapes and graph inputs/outputs.  Constant nodes are
compared by value at each use rather than by position, because where the
exporter places them is an artifact of JIT constant pooling.

The causal mask is the one intended difference (a folded bool[T,T] Constant
in the export, a Range/Unsqueeze/Greater chain in the builder).  Both are
collapsed into a placeholder after checking that they compute the same mask.

    /usr/bin/python3 models/verify_shapes_only.py
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import gen_gpt  # noqa: E402

MASK = "<causal-mask>"


def causal_mask_nodes(graph):
    """Indices of the nodes that only compute the mask fed to Cast(to=BOOL)."""
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output}
    cone = set()
    for node in graph.node:
        if node.op_type == "Cast" and helper.get_attribute_value(node.attribute[0]) == onnx.TensorProto.BOOL:
            stack = [node.input[0]]
            while stack:
                i = producers.get(stack.pop())
                if i is not None and i not in cone:
                    cone.add(i)
                    stack.extend(graph.node[i].input)
    return cone


def evaluate_mask(graph, cone):
    """Tiny interpreter for the handful of ops a mask can be built from."""
    values = {}
    for i in sorted(cone):
        node = graph.node[i]
        args = [values[name] for name in node.input]
        if node.op_type == "Constant":
            out = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Range":
            out = np.arange(*args)
        elif node.op_type == "Unsqueeze":
            out = np.expand_dims(args[0], tuple(args[1]))
        elif node.op_type == "Greater":
            out = args[0] > args[1]
        else:
            raise ValueError(f"unexpected {node.op_type} in the mask computation")
        values[node.output[0]] = out
    return values[graph.node[max(cone)].output[0]]


def canonical(model):
    """The graph as a list of comparable node tuples plus the mask it computes.

    Constants are folded into the inputs that use them; other values are
    named by the position of their producer.
    """
    graph = model.graph
    cone = causal_mask_nodes(graph)
    masks = {graph.node[i].output[0] for i in cone}
    mask_value = evaluate_mask(graph, cone) if cone else None
    keep = {init.name for init in graph.initializer} | {inp.name for inp in graph.input}
    label = {}
    rows = []
    for i, node in enumerate(graph.node):
        if i in cone:
            continue
        if node.op_type == "Constant":
            # Where the exporter places (and whether it pools) a Constant
            # depends on JIT passes; only its value matters.
            array = numpy_helper.to_array(node.attribute[0].t)
            label[node.output[0]] = ("const", str(array.dtype), array.shape, array.tolist())
            continue
        for j, out in enumerate(node.output):
            label[out] = out if out in {o.name for o in graph.output} else f"%{len(rows)}.{j}"
        inputs = [MASK if name in masks else name if name in keep else label[name] for name in node.input]
        attrs = []
        for attr in sorted(node.attribute, key=lambda a: a.name):
            value = helper.get_attribute_value(attr)
            if isinstance(value, onnx.TensorProto):
                array = numpy_helper.to_array(value)
                value = (str(array.dtype), array.shape, array.tolist())
            attrs.append((attr.name, value))
        rows.append((node.name, node.op_type, tuple(inputs), len(node.output), tuple(attrs)))
    return rows, mask_value


def describe(model):
    g = model.graph
    io = [(v.name, v.type.tensor_type.elem_type,
           [d.dim_value for d in v.type.tensor_type.shape.dim]) for v in list(g.input) + list(g.output)]
    return [(t.name, list(t.dims), t.data_type) for t in g.initializer], io, model.ir_version


def compare(cfg, batch, seq, opset, workdir):
    torch.manual_seed(0)
    path = os.path.join(workdir, f"torch_{opset}.onnx")
    common.export(gen_gpt.GPT(cfg), [torch.randint(0, cfg.vocab, (batch, seq))], path,
                  input_names=["idx"], output_names=["logits"], opset=opset, mode="train",
                  dynamic_batch=False)
    exported = onnx.load(path)
    built = gen_gpt.build_shapes_only(cfg, batch, seq, opset, path)

    rows_t, mask_t = canonical(exported)
    rows_b, mask_b = canonical(built)
    assert describe(exported) == describe(built), "initializers or graph inputs/outputs differ"
    assert mask_t is not None and np.array_equal(mask_t, mask_b), "causal masks differ"
    for k, (a, b) in enumerate(zip(rows_t, rows_b)):
        assert a == b, f"opset {opset}: node {k} differs:\n  torch:   {a}\n  builder: {b}"
    assert len(rows_t) == len(rows_b), f"opset {opset}: {len(rows_t)} vs {len(rows_b)} nodes"
    print(f"opset {opset}: {len(rows_t)} nodes match (+ causal mask)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    # Distinct sizes everywhere so that a swapped constant cannot go unnoticed.
    cfg = gen_gpt.GPTConfig(vocab=40, block_size=12, layers=2, heads=4, embd=24, dropout=0.1)
    with tempfile.TemporaryDirectory() as workdir:
        for opset in range(common.MIN_OPSET, common.MAX_OPSET + 1):
            compare(cfg, batch=3, seq=10, opset=opset, workdir=workdir)


if __name__ == "__main__":
    main()
