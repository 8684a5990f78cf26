#!/usr/bin/python3
"""Differential plan fuzzer: a sharded train step must compute the gradients
one device computes, whatever the graph and whatever the plan.

For each case, a random small training graph is drawn from the op families
in FAMILIES (below) and written as ONNX; a few random plans are drawn for it
(grids of 2-4 devices, random `--shard` pins, ZeRO stages, the cost-driven
search with and without constraints). Each plan is compiled once with
cleavec and trained for ONE step on N MPI ranks; the graph is compiled and
trained once on one rank as the reference. Gradients come from the
checkpoint: with SGD and momentum, the momentum buffer after one step is
exactly the gradient (0.9 * 0 + g), and checkpoints hold whole tensors
whatever the plan. Every tensor of the checkpoint (gradients, updated
weights, BatchNorm running statistics) and the loss must match the
reference to a max-normalised error below 1e-5.

A failing pair is shrunk (pins and ZeRO dropped, layers dropped or
unwrapped, dimensions reduced) while it still fails the same way, and
printed as a reproducer: the graph, the plan flags and the commands.

    scripts/fuzz-plans --count 20 --seed 1                # 20 graphs x 3 plans
    /usr/bin/python3 tests/sharding/plan_fuzzer.py --cleavec build/bin/cleavec \
        --workdir /tmp/fuzz --seed 1 --count 4 --expected-failures \
        tests/sharding/fuzz-expected-failures.txt --no-shrink   # what ctest runs
    /usr/bin/python3 tests/sharding/plan_fuzzer.py --replay /tmp/fuzz/.../case.json

Adding an op family: write a `sample(rng, shape)` that returns the family's
parameters (a JSON-able dict; None where it does not apply) and a
`build(g, x, shape, p)` that emits the ONNX nodes through the GraphBuilder
and returns the new (tensor, shape), raising Invalid where the parameters
no longer fit the input (the shrinker changes shapes); then add one
`Family(...)` line to FAMILIES. A pointwise op is one line in UNARY.
"""
import argparse
import copy
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPSET = 17
TOLERANCE = 1e-5
# A gradient's error is measured against the model's largest gradient
# element (1e-5), and against its own largest element (1e-2, never less
# than 1e-3 of the model's largest): a gradient that cancels to little in
# exact arithmetic (attention's query weights after a softmax, a weight in
# front of a scale-invariant LayerNorm, a bias in front of BatchNorm,
# attention's key bias) is a sum of O(1) terms whose rounding depends on the
# order of the summation, so its digits relative to itself are noise at
# 1e-5; the second test still catches a small gradient that is wrong.
GROSS_TOLERANCE = 1e-2
GROSS_FLOOR = 1e-3
# Differences below this are float32 rounding of O(1) values whatever the
# tensor's own scale (a gradient that is exactly zero in exact arithmetic,
# e.g. cross-entropy over identical logits, computes as noise ~1e-8 that
# the model-relative floor above cannot recognise when every gradient is).
ABSOLUTE_FLOOR = 1e-7
LR = 0.5
MOMENTUM = 0.9
COMPILE_TIMEOUT = 300
RUN_TIMEOUT = 120


class Invalid(Exception):
    """A layer's parameters do not fit its input (after shrinking)."""


# --------------------------------------------------------------------------
# Building ONNX graphs


def stable_seed(*parts):
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


class GraphBuilder:
    """Emits nodes and initializers. Parameters are named `l<id>.<role>` by
    the layer that owns them, so names survive the shrinker dropping other
    layers, and their values depend only on (case seed, name, shape)."""

    def __init__(self, seed):
        self.seed = seed
        self.nodes = []
        self.initializers = []
        self.layer = "l0"
        self.counter = 0

    def fresh(self, hint="t"):
        self.counter += 1
        return f"{self.layer}.{hint}{self.counter}"

    def rng(self, tag, *extra):
        return np.random.default_rng(stable_seed(self.seed, self.layer, tag, *extra))

    def param(self, role, shape, init="normal", scale=None):
        name = f"{self.layer}.{role}"
        rng = self.rng(role, tuple(shape))
        shape = tuple(int(d) for d in shape)
        if init == "normal":
            fan_in = max(1, int(np.prod(shape[:-1] if len(shape) > 1 else shape)))
            value = rng.standard_normal(shape) * (scale if scale is not None else fan_in ** -0.5)
        elif init == "ones":
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif init == "positive":
            value = rng.uniform(0.5, 1.5, shape)
        else:
            raise ValueError(init)
        self.initializers.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def const(self, array):
        name = self.fresh("c")
        self.nodes.append(helper.make_node("Constant", [], [name],
                                           value=numpy_helper.from_array(np.asarray(array), name)))
        return name

    def ints(self, values):
        return self.const(np.asarray(values, dtype=np.int64))

    def scalar(self, value):
        return self.const(np.asarray(value, dtype=np.float32))

    def op(self, op_type, inputs, outputs=1, **attrs):
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names,
                                           name=f"{self.layer}/{op_type}{self.counter}", **attrs))
        return names[0] if outputs == 1 else names


def dim(rng, low=1):
    return max(low, rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 8, 12, 16]))


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def need(condition):
    if not condition:
        raise Invalid()


# --------------------------------------------------------------------------
# Op families. Each sample(rng, shape) -> params or None; build(g, x, shape,
# p) -> (tensor, shape). Shapes include the batch dimension (0).


def linear(g, x, shape, n, bias, role="w"):
    weight = g.param(role, (shape[-1], n))
    y = g.op("MatMul", [x, weight])
    if bias:
        y = g.op("Add", [y, g.param(role + "_b", (n,), scale=0.1)])
    return y, shape[:-1] + [n]


def sample_linear(rng, shape):
    return {"n": dim(rng), "bias": rng.random() < 0.6,
            "gemm": len(shape) == 2 and rng.random() < 0.3}


def build_linear(g, x, shape, p):
    if p["gemm"]:
        need(len(shape) == 2)
        weight = g.param("w", (p["n"], shape[1]), scale=shape[1] ** -0.5)
        inputs = [x, weight] + ([g.param("w_b", (p["n"],), scale=0.1)] if p["bias"] else [])
        return g.op("Gemm", inputs, transB=1), [shape[0], p["n"]]
    return linear(g, x, shape, p["n"], p["bias"])


def sample_mlp(rng, shape):
    return {"n": dim(rng, 2), "act": rng.choice(["Relu", "Gelu", "Tanh"])}


def build_mlp(g, x, shape, p):
    # Megatron's block: up-projection, activation, down-projection back to D.
    h, hs = linear(g, x, shape, p["n"], True, "up")
    h = apply_unary(g, h, p["act"])
    return linear(g, h, hs, shape[-1], True, "down")


def sample_conv(rng, shape):
    channels = shape[1]
    kind = rng.choice(["plain", "plain", "grouped", "depthwise"])
    groups = 1
    if kind == "grouped":
        choices = [d for d in divisors(channels) if 1 < d < channels] or [1]
        groups = rng.choice(choices)
    elif kind == "depthwise":
        groups = "C"
    out_per_group = rng.choice([1, 1, 2, 3]) if kind != "plain" else dim(rng)
    kernel = rng.choice([1, 2, 3, 3, 3, 5, 7])
    return {"groups": groups, "out_per_group": out_per_group, "kernel": kernel,
            "stride": rng.choice([1, 1, 2]), "pad": rng.choice([0, kernel // 2]),
            "dilation": rng.choice([1, 1, 1, 2]), "bias": rng.random() < 0.5}


def build_conv(g, x, shape, p):
    batch, channels, height, width = shape
    groups = channels if p["groups"] == "C" else p["groups"]
    need(channels % groups == 0)
    out = groups * p["out_per_group"]
    k, s, pad, d = p["kernel"], p["stride"], p["pad"], p["dilation"]
    oh = (height + 2 * pad - d * (k - 1) - 1) // s + 1
    ow = (width + 2 * pad - d * (k - 1) - 1) // s + 1
    need(oh >= 1 and ow >= 1)
    inputs = [x, g.param("w", (out, channels // groups, k, k), scale=(channels // groups * k * k) ** -0.5)]
    if p["bias"]:
        inputs.append(g.param("b", (out,), scale=0.1))
    y = g.op("Conv", inputs, kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4,
             dilations=[d, d], group=groups)
    return y, [batch, out, oh, ow]


def sample_pool(rng, shape):
    kind = rng.choice(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"])
    k = rng.choice([2, 3])
    return {"kind": kind, "kernel": k, "stride": rng.choice([1, 2]), "pad": rng.choice([0, k // 2])}


def build_pool(g, x, shape, p):
    batch, channels, height, width = shape
    if p["kind"].startswith("Global"):
        return g.op(p["kind"], [x]), [batch, channels, 1, 1]
    k, s, pad = p["kernel"], p["stride"], p["pad"]
    oh, ow = (height + 2 * pad - k) // s + 1, (width + 2 * pad - k) // s + 1
    need(oh >= 1 and ow >= 1)
    y = g.op(p["kind"], [x], kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4)
    return y, [batch, channels, oh, ow]


def sample_batch_norm(rng, shape):
    return {}


def build_batch_norm(g, x, shape, p):
    channels = shape[1]
    # Training-mode statistics over fewer than 4 values are degenerate (two
    # values normalise to +-1 whatever they are: gradients vanish).
    need(np.prod(shape) // channels >= 4)
    inputs = [x, g.param("scale", (channels,), "ones"), g.param("bias", (channels,), scale=0.1),
              g.param("running_mean", (channels,), scale=0.1),
              g.param("running_var", (channels,), "positive")]
    y, _, _ = g.op("BatchNormalization", inputs, outputs=3, training_mode=1, momentum=0.9,
                   epsilon=1e-5)
    return y, shape


def sample_layer_norm(rng, shape):
    return {"axis": -2 if len(shape) >= 3 and rng.random() < 0.3 else -1,
            "bias": rng.random() < 0.7}


def build_layer_norm(g, x, shape, p):
    need(-p["axis"] < len(shape))
    normalized = shape[p["axis"]:]
    # Two values normalise to +-1 whatever they are: every gradient in
    # front would be eps-sized rounding noise.
    need(np.prod(normalized) >= 3)
    inputs = [x, g.param("scale", normalized, "ones")]
    if p["bias"]:
        inputs.append(g.param("bias", normalized, scale=0.1))
    return g.op("LayerNormalization", inputs, axis=p["axis"], epsilon=1e-5), shape


def sample_softmax(rng, shape):
    return {"axis": rng.randrange(1, len(shape)), "log": rng.random() < 0.3}


def build_softmax(g, x, shape, p):
    need(p["axis"] < len(shape) and shape[p["axis"]] >= 2)
    return g.op("LogSoftmax" if p["log"] else "Softmax", [x], axis=p["axis"]), shape


def sample_transpose(rng, shape):
    rest = list(range(1, len(shape)))
    while rest == sorted(rest):
        rng.shuffle(rest)
    return {"perm": [0] + rest}


def build_transpose(g, x, shape, p):
    need(len(p["perm"]) == len(shape))
    return g.op("Transpose", [x], perm=p["perm"]), [shape[i] for i in p["perm"]]


def sample_batch_swap(rng, shape):
    return {"axis": rng.randrange(1, len(shape))}


def build_batch_swap(g, x, shape, p):
    # Moves the batch away from dimension 0 (as [T, B, D] attention does),
    # mixes along the new last dimension (the batch itself when axis is the
    # last one), and moves it back.
    need(p["axis"] < len(shape))
    perm = list(range(len(shape)))
    perm[0], perm[p["axis"]] = perm[p["axis"]], 0
    swapped = [shape[i] for i in perm]
    y = g.op("Transpose", [x], perm=perm)
    y, swapped = linear(g, y, swapped, swapped[-1], False)
    return g.op("Transpose", [y], perm=perm), shape


def sample_attention(rng, shape):
    return {"heads": rng.choice(divisors(shape[2])), "fused": rng.random() < 0.5,
            "causal": rng.random() < 0.5, "bias": rng.random() < 0.5}


def build_attention(g, x, shape, p):
    batch, tokens, width = shape
    heads = p["heads"]
    need(width % heads == 0)
    head = width // heads
    if p["fused"]:
        qkv, _ = linear(g, x, shape, 3 * width, p["bias"], "qkv")
        q, k, v = g.op("Split", [qkv, g.ints([width] * 3)], outputs=3, axis=2)
    else:
        q, k, v = (linear(g, x, shape, width, p["bias"], role)[0] for role in ("q", "k", "v"))
    to_heads = g.ints([batch, tokens, heads, head])
    q, k, v = (g.op("Transpose", [g.op("Reshape", [t, to_heads])], perm=[0, 2, 1, 3])
               for t in (q, k, v))
    scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]),
                          g.scalar(head ** -0.5)])
    if p["causal"]:
        mask = np.triu(np.full((tokens, tokens), -1e9, np.float32), 1)
        scores = g.op("Add", [scores, g.const(mask)])
    y = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    y = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]), g.ints(shape)])
    return linear(g, y, shape, width, p["bias"], "proj")


def sample_gram(rng, shape):
    return {}


def build_gram(g, x, shape, p):
    # A product of two activations: x x^T over the last two dimensions.
    perm = list(range(len(shape)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    y = g.op("MatMul", [x, g.op("Transpose", [x], perm=perm)])
    y = g.op("Mul", [y, g.scalar(1.0 / shape[-1])])
    return y, shape[:-1] + [shape[-2]]


def sample_flatten(rng, shape):
    return {}


def build_flatten(g, x, shape, p):
    return g.op("Flatten", [x], axis=1), [shape[0], int(np.prod(shape[1:]))]


def sample_unflatten(rng, shape):
    choices = [d for d in divisors(shape[1]) if 1 < d < shape[1]]
    return {"parts": rng.choice(choices)} if choices else None


def build_unflatten(g, x, shape, p):
    need(shape[1] % p["parts"] == 0)
    out = [shape[0], p["parts"], shape[1] // p["parts"]]
    return g.op("Reshape", [x, g.ints(out)]), out


def sample_to_seq(rng, shape):
    return {}


def build_to_seq(g, x, shape, p):
    # [B, C, H, W] -> [B, H*W, C], as a vision transformer's patch tokens.
    batch, channels, height, width = shape
    y = g.op("Reshape", [x, g.ints([batch, channels, height * width])])
    return g.op("Transpose", [y], perm=[0, 2, 1]), [batch, height * width, channels]


def sample_to_image(rng, shape):
    return {"rows": rng.choice(divisors(shape[1]))}


def build_to_image(g, x, shape, p):
    # [B, T, D] -> [B, D, rows, T/rows]
    batch, tokens, width = shape
    need(tokens % p["rows"] == 0)
    out = [batch, width, p["rows"], tokens // p["rows"]]
    y = g.op("Transpose", [x], perm=[0, 2, 1])
    return g.op("Reshape", [y, g.ints(out)]), out


REDUCTIONS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL2"]


def sample_reduce(rng, shape):
    return {"kind": rng.choice(REDUCTIONS), "axis": rng.randrange(1, len(shape)),
            "keepdims": rng.random() < 0.4}


def build_reduce(g, x, shape, p):
    need(p["axis"] < len(shape))
    keep = int(p["keepdims"])
    if p["kind"] == "ReduceSum":  # axes is an input from opset 13, an attribute for the others until 18
        y = g.op("ReduceSum", [x, g.ints([p["axis"]])], keepdims=keep)
    else:
        y = g.op(p["kind"], [x], axes=[p["axis"]], keepdims=keep)
    out = list(shape)
    if keep:
        out[p["axis"]] = 1
    else:
        del out[p["axis"]]
    return y, out


# Pointwise ops: ONNX op type (or a composite below) -> attributes. One line each.
UNARY = {
    "Relu": {}, "Tanh": {}, "Sigmoid": {}, "Erf": {}, "Softplus": {}, "Sin": {}, "Cos": {},
    "Abs": {}, "Neg": {}, "LeakyRelu": {"alpha": 0.1}, "Elu": {"alpha": 0.7}, "HardSigmoid": {},
    "Gelu": None, "Swish": None, "Square": None, "LeakyWhere": None,
    # Ops issue 9 added, each an exact composition of cleave ops.
    "HardSwish": {}, "Selu": {}, "Softsign": {}, "Celu": {"alpha": 0.8},
}


def apply_unary(g, x, kind):
    if kind == "Gelu":  # the Erf form non-PyTorch exporters write
        inner = g.op("Erf", [g.op("Mul", [x, g.scalar(2 ** -0.5)])])
        return g.op("Mul", [g.op("Mul", [x, g.scalar(0.5)]), g.op("Add", [inner, g.scalar(1.0)])])
    if kind == "Swish":
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if kind == "Square":
        return g.op("Mul", [x, x])
    if kind == "LeakyWhere":
        return g.op("Where", [g.op("Greater", [x, g.scalar(0.0)]), x, g.op("Mul", [x, g.scalar(0.2)])])
    return g.op(kind, [x], **UNARY[kind])


def sample_unary(rng, shape):
    return {"kind": rng.choice(sorted(UNARY))}


def build_unary(g, x, shape, p):
    return apply_unary(g, x, p["kind"]), shape


def sample_scale_shift(rng, shape):
    # A learnt per-element scale and shift broadcast over some dimensions
    # (per channel, per feature, per position).
    keep = [rng.random() < 0.6 for _ in shape[1:]]
    return {"keep": keep, "drop_leading": rng.random() < 0.5, "binary": rng.choice(["Mul", "Div"])}


def build_scale_shift(g, x, shape, p):
    need(len(p["keep"]) == len(shape) - 1)
    param_shape = [d if k else 1 for d, k in zip(shape[1:], p["keep"])]
    if p["drop_leading"]:
        while len(param_shape) > 1 and param_shape[0] == 1:
            param_shape = param_shape[1:]
    scale = g.param("scale", param_shape, "ones" if p["binary"] == "Mul" else "positive")
    y = g.op(p["binary"], [x, scale])
    return g.op("Add", [y, g.param("shift", param_shape, scale=0.1)]), shape


def sample_gated(rng, shape):
    return {"n": dim(rng)}


def build_gated(g, x, shape, p):
    # SwiGLU-style: one projection gates another.
    a, out = linear(g, x, shape, p["n"], False, "value")
    b, _ = linear(g, x, shape, p["n"], False, "gate")
    return g.op("Mul", [a, g.op("Mul", [b, g.op("Sigmoid", [b])])]), out


def sample_gather(rng, shape):
    return {"axis": rng.randrange(1, len(shape)), "count": rng.choice([1, 2, 3, 5, 8]),
            "scalar": rng.random() < 0.2}


def build_gather(g, x, shape, p):
    need(p["axis"] < len(shape))
    size = shape[p["axis"]]
    rng = g.rng("indices", size, p["count"])
    out = list(shape)
    if p["scalar"]:
        indices = g.const(np.asarray(rng.integers(0, size), dtype=np.int64))
        del out[p["axis"]]
    else:
        # Repeated indices: their gradients add up (a scatter-add).
        indices = g.ints(rng.integers(0, size, p["count"]))
        out[p["axis"]] = p["count"]
    return g.op("Gather", [x, indices], axis=p["axis"]), out


def sample_slice_concat(rng, shape):
    return {"axis": rng.randrange(1, len(shape)), "start": rng.random(), "end": rng.random()}


def build_slice_concat(g, x, shape, p):
    need(p["axis"] < len(shape))
    size = shape[p["axis"]]
    start = min(int(p["start"] * size), size - 1)
    end = max(start + 1, int(p["end"] * size + 1))
    part = g.op("Slice", [x, g.ints([start]), g.ints([end]), g.ints([p["axis"]])])
    out = list(shape)
    out[p["axis"]] = size + min(end, size) - start
    return g.op("Concat", [x, g.op("Tanh", [part])], axis=p["axis"]), out


def sample_split_mix(rng, shape):
    return {"axis": rng.randrange(1, len(shape)), "first": rng.random()}


def build_split_mix(g, x, shape, p):
    # Split a dimension in two unequal parts, treat them differently, join
    # them back in the other order.
    need(p["axis"] < len(shape) and shape[p["axis"]] >= 2)
    size = shape[p["axis"]]
    first = min(max(1, int(p["first"] * size)), size - 1)
    a, b = g.op("Split", [x, g.ints([first, size - first])], outputs=2, axis=p["axis"])
    return g.op("Concat", [g.op("Sigmoid", [b]), a], axis=p["axis"]), shape


def sample_residual(rng, shape):
    # One or two shape-preserving layers; tried until the shape comes back.
    for _ in range(20):
        body = [sample_layer(rng, shape, SHAPE_PRESERVING)]
        if rng.random() < 0.4:
            body.insert(0, {"op": "layer_norm", **sample_layer_norm(rng, shape)})
        try:
            _, out = build_layers(GraphBuilder(0), "x", shape, body, "probe")
        except Invalid:
            continue
        if out == shape:
            return {"body": body}
    return None


def build_residual(g, x, shape, p):
    y, out = build_layers(g, x, shape, p["body"], g.layer)
    need(out == shape)
    return g.op("Add", [x, y]), shape


@dataclass
class Family:
    name: str
    ranks: tuple            # input ranks it applies to
    sample: Callable        # (random.Random, shape) -> params (dict) or None
    build: Callable         # (GraphBuilder, tensor, shape, params) -> (tensor, shape)
    ops: tuple              # ONNX op types it emits (checked against cleavec --list-ops)
    weight: float = 1.0
    sizes: tuple = ()       # integer parameters the shrinker may reduce


def sample_prelu(rng, shape):
    return {"per_channel": rng.random() < 0.7}


def build_prelu(g, x, shape, p):
    # A learnt slope per channel (dimension 1, broadcast over the rest) or
    # one for the whole tensor.
    slope_shape = [shape[1]] + [1] * (len(shape) - 2) if p["per_channel"] else [1]
    return g.op("PRelu", [x, g.param("slope", slope_shape, scale=0.25)]), shape


def sample_pad(rng, shape):
    return {"mode": rng.choice(["constant", "reflect", "edge"]), "before": rng.randrange(0, 3),
            "after": rng.randrange(0, 3)}


def build_pad(g, x, shape, p):
    # Pads the last dimension; reflect needs more elements than it mirrors.
    need(p["before"] + p["after"] > 0)
    if p["mode"] == "reflect":
        need(max(p["before"], p["after"]) < shape[-1])
    pads = [0] * (2 * len(shape))
    pads[len(shape) - 1], pads[-1] = p["before"], p["after"]
    inputs = [x, g.ints(pads)] + ([g.scalar(0.5)] if p["mode"] == "constant" else [])
    out = list(shape)
    out[-1] += p["before"] + p["after"]
    return g.op("Pad", inputs, mode=p["mode"]), out


def sample_cumsum(rng, shape):
    return {"axis": rng.randrange(1, len(shape)), "exclusive": int(rng.random() < 0.3),
            "reverse": int(rng.random() < 0.3)}


def build_cumsum(g, x, shape, p):
    need(p["axis"] < len(shape))
    axis = g.const(np.asarray(p["axis"], dtype=np.int64))
    return g.op("CumSum", [x, axis], exclusive=p["exclusive"], reverse=p["reverse"]), shape


def sample_einsum(rng, shape):
    return {"n": rng.randrange(1, 9)}


def build_einsum(g, x, shape, p):
    # A learnt contraction of the last dimension written as an Einsum, the
    # way some exporters write a Linear ("...i,ij->...j" without the dots,
    # which ONNX 1.12's shape inference needs spelled out).
    letters = "bcdh"[:len(shape) - 1]
    weight = g.param("w", (shape[-1], p["n"]))
    equation = f"{letters}i,ij->{letters}j"
    return g.op("Einsum", [x, weight], equation=equation), list(shape[:-1]) + [p["n"]]


def sample_topk(rng, shape):
    return {"k": rng.randrange(1, 4), "largest": int(rng.random() < 0.7)}


def build_topk(g, x, shape, p):
    # The k largest (or smallest) values along the last dimension: a max or
    # min reduction per pick, so a split last dimension needs a max/min
    # all-reduce.
    need(p["k"] <= shape[-1])
    values, _ = g.op("TopK", [x, g.ints([p["k"]])], outputs=2, axis=-1, largest=p["largest"])
    return values, list(shape[:-1]) + [p["k"]]


# The table of op families. Weights are relative draw frequencies.
FAMILIES = [
    Family("linear", (2, 3, 4), sample_linear, build_linear, ("MatMul", "Gemm", "Add"), 3, ("n",)),
    Family("mlp", (2, 3, 4), sample_mlp, build_mlp, ("MatMul", "Add", "Erf", "Relu", "Tanh"), 1.5, ("n",)),
    Family("conv", (4,), sample_conv, build_conv, ("Conv",), 3,
           ("out_per_group", "kernel", "stride", "dilation")),
    Family("pool", (4,), sample_pool, build_pool, ("MaxPool", "AveragePool", "GlobalAveragePool")),
    Family("batch_norm", (2, 3, 4), sample_batch_norm, build_batch_norm, ("BatchNormalization",), 1.5),
    Family("layer_norm", (2, 3, 4), sample_layer_norm, build_layer_norm, ("LayerNormalization",), 1.5),
    Family("softmax", (2, 3, 4), sample_softmax, build_softmax, ("Softmax", "LogSoftmax")),
    Family("transpose", (3, 4), sample_transpose, build_transpose, ("Transpose",)),
    Family("batch_swap", (2, 3), sample_batch_swap, build_batch_swap, ("Transpose", "MatMul"), 0.7),
    Family("attention", (3,), sample_attention, build_attention,
           ("MatMul", "Split", "Reshape", "Transpose", "Softmax"), 2),
    Family("gram", (3,), sample_gram, build_gram, ("MatMul", "Transpose"), 0.5),
    Family("flatten", (3, 4), sample_flatten, build_flatten, ("Flatten",), 0.7),
    Family("unflatten", (2,), sample_unflatten, build_unflatten, ("Reshape",), 0.7),
    Family("to_seq", (4,), sample_to_seq, build_to_seq, ("Reshape", "Transpose"), 0.7),
    Family("to_image", (3,), sample_to_image, build_to_image, ("Reshape", "Transpose"), 0.5),
    Family("reduce", (2, 3, 4), sample_reduce, build_reduce, tuple(REDUCTIONS), 0.7),
    Family("unary", (1, 2, 3, 4), sample_unary, build_unary,
           tuple(k for k, v in UNARY.items() if v is not None) + ("Where", "Greater"), 1.5),
    Family("scale_shift", (2, 3, 4), sample_scale_shift, build_scale_shift, ("Mul", "Div", "Add")),
    Family("gated", (2, 3, 4), sample_gated, build_gated, ("MatMul", "Sigmoid", "Mul"), 0.7, ("n",)),
    Family("gather", (2, 3, 4), sample_gather, build_gather, ("Gather",), 0.8, ("count",)),
    Family("slice_concat", (2, 3, 4), sample_slice_concat, build_slice_concat, ("Slice", "Concat"), 0.6),
    Family("split_mix", (2, 3, 4), sample_split_mix, build_split_mix, ("Split", "Concat"), 0.6),
    Family("residual", (2, 3, 4), sample_residual, build_residual, ("Add",), 2),
    Family("prelu", (2, 3, 4), sample_prelu, build_prelu, ("PRelu",), 0.6),
    Family("pad", (2, 3, 4), sample_pad, build_pad, ("Pad",), 0.5),
    Family("cumsum", (2, 3, 4), sample_cumsum, build_cumsum, ("CumSum",), 0.4),
    Family("einsum", (2, 3, 4), sample_einsum, build_einsum, ("Einsum",), 0.6, ("n",)),
    Family("topk", (2, 3, 4), sample_topk, build_topk, ("TopK",), 0.4, ("k",)),
]
FAMILY = {f.name: f for f in FAMILIES}
# Families a residual body draws from (they can keep the shape).
SHAPE_PRESERVING = ["linear", "mlp", "conv", "layer_norm", "batch_norm", "attention", "unary",
                    "scale_shift", "gated", "split_mix", "softmax", "prelu", "cumsum"]

# How the graph starts: [B, ...] float input, or token ids into an embedding.
INPUT_KINDS = {"image": 3, "seq": 3, "flat": 2, "tokens": 2}


def sample_layer(rng, shape, names=None):
    candidates = [f for f in FAMILIES if len(shape) in f.ranks and (names is None or f.name in names)]
    for _ in range(30):
        family = rng.choices(candidates, [f.weight for f in candidates])[0]
        params = family.sample(rng, shape)
        if params is not None:
            return {"op": family.name, **params}
    return {"op": "unary", "kind": "Tanh"}


def build_layers(g, x, shape, layers, prefix):
    for index, layer in enumerate(layers):
        outer = g.layer
        g.layer = f"{prefix}_{layer.get('id', index)}" if prefix != "" else f"l{layer['id']}"
        family = FAMILY[layer["op"]]
        need(len(shape) in family.ranks)
        params = {k: v for k, v in layer.items() if k not in ("op", "id")}
        x, shape = family.build(g, x, list(shape), params)
        need(all(d >= 1 for d in shape))
        g.layer = outer
    return x, shape


def input_shape(spec):
    i = spec["input"]
    return {"image": lambda: [i["batch"], i["channels"], i["height"], i["width"]],
            "seq": lambda: [i["batch"], i["tokens"], i["width"]],
            "flat": lambda: [i["batch"], i["width"]],
            "tokens": lambda: [i["batch"], i["tokens"]]}[i["kind"]]()


def build_graph(spec):
    """spec -> (onnx.ModelProto, data arrays by input name, loss flags)."""
    g = GraphBuilder(spec["seed"])
    i = spec["input"]
    shape = input_shape(spec)
    data_rng = np.random.default_rng(stable_seed(spec["seed"], "data", tuple(shape)))
    inputs, data = [], {}
    if i["kind"] == "tokens":
        inputs.append(helper.make_tensor_value_info("idx", TensorProto.INT64, shape))
        data["idx"] = data_rng.integers(0, i["vocab"], shape).astype(np.int64)
        g.layer = "embed"
        table = g.param("table", (i["vocab"], i["width"]), scale=1.0)
        x = g.op("Gather", [table, "idx"], axis=0)
        shape = shape + [i["width"]]
    else:
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, shape))
        data["x"] = data_rng.standard_normal(shape).astype(np.float32)
        x = "x"
    x, shape = build_layers(g, x, shape, spec["layers"], "")
    g.layer = "loss"
    loss = spec["loss"]
    if loss == "model":
        # The graph's own scalar loss: mean of x * x + mean of x * R.
        weights = np.random.default_rng(stable_seed(spec["seed"], "lossw")).standard_normal(shape[1:])
        mixed = g.op("Add", [g.op("Mul", [x, x]), g.op("Mul", [x, g.const(weights.astype(np.float32))])])
        x = g.op("ReduceMean", [mixed], keepdims=0)
        out_shape = []
        flags = ["--loss", "model"]
    elif loss == "cross_entropy":
        need(len(shape) >= 2 and shape[-1] >= 2)
        data["y"] = data_rng.integers(0, shape[-1], shape[:-1]).astype(np.int64)
        out_shape = shape
        flags = ["--loss", "cross_entropy", "--labels", "y"]
    else:
        data["y"] = data_rng.standard_normal(shape).astype(np.float32)
        out_shape = shape
        flags = ["--loss", "mse", "--labels", "y"]
    x = g.op("Identity", [x])
    outputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, out_shape)]
    graph = helper.make_graph(g.nodes, "fuzz", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="plan_fuzzer")
    model.ir_version = 8
    return model, data, flags


def generate_graph(rng, seed):
    for _ in range(100):
        kind = rng.choice(sorted(INPUT_KINDS))
        spec = {"seed": seed, "input": {"kind": kind, "batch": rng.choice([2, 3, 4, 4, 6, 8, 8, 12])}}
        i = spec["input"]
        if kind == "image":
            i.update(channels=dim(rng), height=rng.randint(1, 9), width=rng.randint(1, 9))
        elif kind in ("seq", "tokens"):
            i.update(tokens=dim(rng), width=dim(rng, 2))
            if kind == "tokens":
                i["vocab"] = dim(rng, 2) + rng.randint(0, 20)
        else:
            i["width"] = dim(rng, 2)
        layers = []
        shape = input_shape(spec) + ([i["width"]] if kind == "tokens" else [])
        for layer_id in range(1, rng.randint(1, 6) + 1):
            for _ in range(10):
                layer = {"id": layer_id, **sample_layer(rng, shape)}
                try:
                    _, new_shape = build_layers(GraphBuilder(0), "x", shape, [layer], "")
                except Invalid:
                    continue
                if np.prod(new_shape) <= 4096:
                    layers.append(layer)
                    shape = new_shape
                    break
        spec["layers"] = layers
        losses = ["mse", "model"] + (["cross_entropy"] * 2 if len(shape) >= 2 and shape[-1] >= 2 else [])
        spec["loss"] = rng.choice(losses)
        try:
            if not parameter_shapes(spec):
                continue
        except Invalid:
            continue
        return spec
    raise RuntimeError("no valid graph drawn")


def describe(spec):
    lines = [f"input {spec['input']}  loss {spec['loss']}"]

    def walk(layers, indent, shape, prefix):
        g = GraphBuilder(spec["seed"])
        for index, layer in enumerate(layers):
            params = {k: v for k, v in layer.items() if k not in ("op", "id", "body")}
            try:
                _, out = build_layers(g, "x", shape, [layer], prefix)
            except Invalid:
                out = "?"
            lines.append(f"{indent}{layer['op']} {params}  {shape} -> {out}")
            if "body" in layer:
                walk(layer["body"], indent + "    ", shape, "probe")
            shape = out if out != "?" else shape
    start = input_shape(spec) + ([spec["input"]["width"]] if spec["input"]["kind"] == "tokens" else [])
    walk(spec["layers"], "  ", start, "")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Plans


# Cost models for the search besides the measured `cpu` profile: with
# compute slow relative to the links it prefers other grids and splits,
# so more of the plan space is exercised.
CLUSTERS = {
    "compute-bound": {"device": {"peak_tflops": {"f32": 1e-6}, "memory_bandwidth_gb_per_s": 0.01,
                                 "memory_gb": 16},
                      "intra_node": {"bandwidth_gb_per_s": 100, "latency_us": 0.01}},
    "balanced": {"device": {"peak_tflops": {"f32": 1e-4}, "memory_bandwidth_gb_per_s": 0.1,
                            "memory_gb": 16},
                 "intra_node": {"bandwidth_gb_per_s": 1, "latency_us": 1}},
}


def cluster_file(workdir, name):
    path = os.path.join(workdir, f"cluster-{name}.json")
    if not os.path.exists(path):
        profile = {"description": f"plan fuzzer: {name}", "devices_per_node": 4, "nodes": 1,
                   "oversubscribe": True, **CLUSTERS[name]}
        with open(path, "w") as file:
            json.dump(profile, file, indent=1)
    return path


GRIDS = {2: ["dp=2", "tp=2"], 3: ["dp=3", "tp=3"], 4: ["dp=4", "tp=4", "dp=2,tp=2", "tp=2,dp=2"]}


def grid_axes(grid):
    return {name: int(size) for name, size in (part.split("=") for part in grid.split(","))}


def random_pins(rng, params, axes):
    """Up to three --shard pins; mostly on dimensions the axes divide, a few
    that they do not (cleavec must then refuse the plan cleanly)."""
    pins = []
    names = sorted(params)
    rng.shuffle(names)
    for name in names[:rng.choice([0, 1, 1, 2, 3])]:
        shape = params[name]
        spec = ["-"] * len(shape)
        for axis, size in axes.items():
            if rng.random() < 0.35 and len(axes) > 1:
                continue
            free = [d for d in range(len(shape)) if spec[d] == "-"]
            good = [d for d in free if shape[d] % size == 0 and shape[d] >= size]
            pool = good if good and rng.random() < 0.9 else free
            if not good and rng.random() < 0.8:
                continue
            if pool:
                spec[rng.choice(pool)] = axis
        if all(s == "-" for s in spec) and len(axes) > 1 and rng.random() < 0.5:
            product = int(np.prod(list(axes.values())))
            good = [d for d in range(len(shape)) if shape[d] % product == 0]
            if good:
                spec[rng.choice(good)] = "*".join(axes)
        pins.append(f"{name}={','.join(spec)}")
    return pins


def generate_plans(rng, spec, params, count):
    batch = spec["input"]["batch"]
    plans = []
    for _ in range(count * 10):
        if len(plans) == count:
            break
        devices = rng.choice([2, 2, 3, 4, 4, 4])
        kind = rng.choices(["auto", "pinned", "auto+grid", "dp", "zero"], [3, 4, 1.5, 0.7, 1.5])[0]
        grid = rng.choice(GRIDS[devices])
        axes = grid_axes(grid)
        if kind == "auto":
            plan = {"kind": kind, "devices": devices, "pins": [], "zero": 0, "grid": None}
        elif kind == "dp":
            if batch % devices:
                continue
            plan = {"kind": kind, "devices": devices, "pins": [], "zero": 0, "grid": None}
        elif kind == "zero":
            if batch % devices:
                continue
            plan = {"kind": "pinned", "devices": devices, "grid": f"dp={devices}",
                    "pins": [], "zero": rng.choice([2, 3])}
        else:
            if axes.get("dp", 1) > 1 and batch % axes["dp"]:
                continue
            plan = {"kind": kind, "devices": devices, "grid": grid,
                    "pins": random_pins(rng, params, axes),
                    "zero": rng.choice([0, 0, 0, 2, 3]) if "dp" in axes and kind == "pinned" else 0}
        plan["cluster"] = None
        # Gradient buckets: the default (25 MiB: everything in one), none,
        # or tiny ones (a bucket per gradient or two).
        plan["bucket_mb"] = rng.choice([None, None, 0, 0.0005])
        if kind in ("auto", "auto+grid"):
            plan["cluster"] = rng.choice([None, "compute-bound", "compute-bound", "balanced"])
        if plan not in plans:
            plans.append(plan)
    return plans


def pipeline_variant(spec, plan, seed):
    """`plan` on 2 pipeline stages (--grid pp=2 before its own axes, twice
    the ranks) with 1 or 2 micro-batches (1 where BatchNorm would see
    per-micro-batch statistics, which the one-device reference does not)."""
    rng = random.Random(seed)
    variant = copy.deepcopy(plan)
    variant["pp"] = 2
    batch = spec["input"]["batch"]
    batch_norm = '"batch_norm"' in json.dumps(spec)
    variant["micro_batches"] = 1 if batch_norm or batch % (2 * plan["devices"]) else rng.choice(
        [1, 2, 2])
    variant["devices"] = plan["devices"] * 2
    return variant


# Families whose result for a sample depends on the other samples of the
# batch: under micro-batches they compute on the micro-batch (BatchNorm's
# statistics), so only M = 1 compares with the full-batch reference.
BATCH_COUPLED = {"batch_norm", "batch_swap"}
SCHEDULES = ["gpipe", "1f1b", "1f1b", "interleaved"]


def layer_ops(layers):
    for layer in layers:
        yield layer["op"]
        yield from layer_ops(layer.get("body", []))


def generate_pipeline_plans(rng, spec, params, count):
    """Pipeline plans (issue 11): pp=2 alone or with dp=2 or tp=2 (tp with
    random pins), M micro-batches dividing the per-dp batch (1 where the
    graph couples samples), a random schedule (interleaved: V=2, M a
    multiple of the stages). Drawn from their own random stream, so the
    other plans of every seed (and the corpus) stay as they were; only for
    graphs of 2 layers or more (cleavec refuses more chunks than the
    split's layers: such a rejection is not a failure)."""
    if len(spec["layers"]) < 2:
        return []
    batch = spec["input"]["batch"]
    coupled = any(op in BATCH_COUPLED for op in layer_ops(spec["layers"]))
    plans = []
    for _ in range(count * 10):
        if len(plans) == count:
            break
        grid = rng.choice(["pp=2", "pp=2", "pp=2,dp=2", "pp=2,tp=2"])
        axes = grid_axes(grid)
        dp = axes.get("dp", 1)
        if batch % dp:
            continue
        schedule = rng.choice(SCHEDULES)
        choices = [m for m in divisors(batch // dp) if m <= 4 and (m == 1 or not coupled)]
        if schedule == "interleaved":
            choices = [m for m in choices if m % axes["pp"] == 0]
            if not choices:
                continue
        pins = random_pins(rng, params, {"tp": axes["tp"]}) if "tp" in axes and rng.random() < 0.5 else []
        plan = {"kind": "pipeline", "devices": int(np.prod(list(axes.values()))), "grid": grid,
                "pins": pins, "zero": 0, "cluster": None, "bucket_mb": None,
                "micro_batches": rng.choice(choices), "schedule": schedule,
                "virtual_stages": 2 if schedule == "interleaved" else 1}
        if plan not in plans:
            plans.append(plan)
    return plans


def plan_divides(spec, plan):
    """Whether every pinned axis divides its dimension and dp the batch."""
    if not plan["grid"]:
        return True
    axes = grid_axes(plan["grid"])
    if spec["input"]["batch"] % axes.get("dp", 1):
        return False
    params = parameter_shapes(spec)
    for pin in plan["pins"]:
        name, spec_text = pin.split("=")
        for size, part in zip(params[name], spec_text.split(",")):
            ways = int(np.prod([axes[a] for a in part.split("*") if a != "-"]))
            if size % ways:
                return False
    return True


def plan_flags(plan, workdir=None):
    flags = []
    if plan.get("cluster"):
        flags += ["--cluster", cluster_file(workdir, plan["cluster"]) if workdir
                  else f"cluster-{plan['cluster']}.json"]
    if plan["kind"] in ("auto", "auto+grid", "dp"):
        flags += ["--devices", str(plan["devices"])]
    if plan["kind"] == "dp":
        flags += ["--plan", "dp"]
    if plan.get("pp"):
        # Pipeline stages (--pipelines): pp is the grid's first axis.
        grid = f"pp={plan['pp']}" + (f",{plan['grid']}" if plan["grid"] else "")
        if plan["kind"] == "pinned" and not plan["grid"]:
            grid += f",dp={plan['devices'] // plan['pp']}"
        flags += ["--grid", grid, "--micro-batches", str(plan["micro_batches"])]
    elif plan["grid"]:
        flags += ["--grid", plan["grid"]]
    if plan["zero"]:
        flags += ["--zero", str(plan["zero"])]
    if plan.get("bucket_mb") is not None:
        flags += ["--bucket-mb", str(plan["bucket_mb"])]
    for pin in plan["pins"]:
        flags += ["--shard", pin]
    if plan["kind"] == "pipeline":
        flags += ["--micro-batches", str(plan["micro_batches"]), "--schedule", plan["schedule"],
                  "--virtual-stages", str(plan["virtual_stages"])]
    return flags


# --------------------------------------------------------------------------
# Running


def read_safetensors(path):
    with open(path, "rb") as file:
        blob = file.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    base = 8 + length
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in dtypes:
            continue
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(blob[base + start:base + end],
                                      dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors


def environment():
    return mpi_environment(OMPI_MCA_rmaps_base_oversubscribe="1")


CRASH_MARKERS = ("Assertion", "Stack dump", "LLVM ERROR", "PLEASE submit", "Segmentation fault",
                 "terminate called", "UNREACHABLE", "compiling the generated program failed")


@dataclass
class Outcome:
    kind: str               # ok, rejected, compile-crash, run-error, timeout, mismatch, unsupported
    detail: str = ""
    errors: dict = field(default_factory=dict)   # tensor -> error, for mismatches
    worst: float = 0.0

    @property
    def failed(self):
        return self.kind not in ("ok", "rejected", "unsupported")


def shell(command):
    return " ".join(c if c and all(ch.isalnum() or ch in "-_=./,:*+" for ch in c) else repr(c)
                    for c in command)


class Runner:
    def __init__(self, cleavec, workdir, verbose=False):
        self.cleavec = cleavec
        self.workdir = workdir
        self.verbose = verbose
        self.references = {}
        self.pairs = 0
        self.compiles = 0

    def case_dir(self, spec):
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        path = os.path.join(self.workdir, digest)
        return path

    def prepare(self, spec):
        """Writes the model and data once per graph; returns (dir, data binding, loss flags)."""
        path = self.case_dir(spec)
        model, data, flags = build_graph(spec)
        if not os.path.exists(os.path.join(path, "model.onnx")):
            os.makedirs(path, exist_ok=True)
            onnx.checker.check_model(model)
            onnx.save(model, os.path.join(path, "model.onnx"))
            for name, array in data.items():
                np.save(os.path.join(path, f"{name}.npy"), array)
            with open(os.path.join(path, "graph.json"), "w") as file:
                json.dump(spec, file, indent=1)
        binding = ",".join(f"{name}={os.path.join(path, name + '.npy')}" for name in data)
        return path, binding, flags

    def perturbed_binding(self, spec):
        """The data with one value changed, for the self-check."""
        path, _, _ = self.prepare(spec)
        _, data, _ = build_graph(spec)
        name = next((n for n, a in data.items() if a.dtype.kind == "f"), "y" if "y" in data else "idx")
        array = data[name].copy()
        flat = array.reshape(-1)
        flat[0] = flat[0] + 0.5 if array.dtype.kind == "f" else (flat[0] + 1) % max(2, flat.max() + 1)
        np.save(os.path.join(path, f"{name}_perturbed.npy"), array)
        return ",".join(f"{n}={os.path.join(path, n + ('_perturbed' if n == name else '') + '.npy')}"
                        for n in data)

    def compile_command(self, path, loss_flags, extra, output):
        return [self.cleavec, os.path.join(path, "model.onnx"), "--target", "cpu", *loss_flags,
                "--optimizer", "sgd", "--lr", str(LR), "--momentum", str(MOMENTUM), *extra,
                "-o", output]

    def run_command(self, executable, binding, ranks, tag, path):
        command = [executable, "--data", binding, "--steps", "1", "--log-every", "0",
                   "--checkpoint-dir", os.path.join(path, f"{tag}.ckpt"),
                   "--metrics", os.path.join(path, f"{tag}.jsonl")]
        if ranks > 1:
            command = ["mpirun", "--oversubscribe", "-np", str(ranks)] + command
        return command

    def execute(self, command, timeout):
        if self.verbose:
            print("  $", shell(command), flush=True)
        # A session of its own, so that a hang (a collective some rank never
        # joins) is ended with every rank mpirun started, not mpirun alone.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=environment(), start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.communicate()
            return None
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def build_and_run(self, spec, flags, ranks, tag, binding=None):
        """Compiles and trains one step; returns (Outcome or None, tensors, loss, commands)."""
        path, default_binding, loss_flags = self.prepare(spec)
        binding = binding or default_binding
        executable = os.path.join(path, tag)
        shutil.rmtree(os.path.join(path, f"{tag}.ckpt"), ignore_errors=True)
        compile_cmd = self.compile_command(path, loss_flags, flags, executable)
        run_cmd = self.run_command(executable, binding, ranks, tag, path)
        commands = [compile_cmd, run_cmd]
        self.compiles += 1
        result = self.execute(compile_cmd, COMPILE_TIMEOUT)
        if result is None:
            return Outcome("timeout", "cleavec ran over %d s" % COMPILE_TIMEOUT), None, None, commands
        text = result.stdout + result.stderr
        if result.returncode != 0:
            if result.returncode < 0 or result.returncode > 2 or any(m in text for m in CRASH_MARKERS):
                return Outcome("compile-crash", first_lines(text)), None, None, commands
            return Outcome("rejected", first_error(text)), None, None, commands
        result = self.execute(run_cmd, RUN_TIMEOUT)
        if result is None:
            return Outcome("timeout", f"one step on {ranks} rank(s) ran over {RUN_TIMEOUT} s"), None, None, commands
        if result.returncode != 0:
            return Outcome("run-error", first_lines(result.stdout + result.stderr)), None, None, commands
        ckpt = os.path.join(path, f"{tag}.ckpt", "ckpt-00000001.safetensors")
        tensors = read_safetensors(ckpt)
        with open(os.path.join(path, f"{tag}.jsonl")) as file:
            loss = json.loads(file.readline())["loss"]
        return None, tensors, loss, commands

    def reference(self, spec):
        key = json.dumps(spec, sort_keys=True)
        if key not in self.references:
            self.references[key] = self.build_and_run(spec, [], 1, "ref")
        return self.references[key]

    def check(self, spec, plan, perturb=False):
        """One graph x plan pair -> (Outcome, commands). perturb: the N-rank
        run reads data with one value changed (the self-check: it must fail)."""
        ref_outcome, ref_tensors, ref_loss, ref_commands = self.reference(spec)
        if ref_outcome is not None:
            # A graph one device cannot train: a generator bug, or a crash
            # that has nothing to do with plans (still reported).
            kind = "unsupported" if ref_outcome.kind == "rejected" else ref_outcome.kind
            return Outcome(kind, "one-rank reference: " + ref_outcome.detail), ref_commands
        self.pairs += 1
        tag = "plan_" + hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:8]
        outcome, tensors, loss, commands = self.build_and_run(
            spec, plan_flags(plan, self.workdir), plan["devices"], tag,
            self.perturbed_binding(spec) if perturb else None)
        commands = ref_commands + commands
        if outcome is not None:
            # A pipeline may be refused for the graph's few layers or the
            # batch's rows, whatever the plan.
            refused_pipeline = plan.get("pp") and any(
                reason in outcome.detail
                for reason in ("pipeline chunks", "does not divide the batch"))
            if outcome.kind == "rejected" and not refused_pipeline and (plan["kind"] == "auto" or (
                    plan["kind"] == "dp" and spec["input"]["batch"] % plan["devices"] == 0)):
                # The search must always find some valid plan (and plain
                # dp one where it divides the batch).
                outcome.kind = "auto-rejected"
            elif outcome.kind == "rejected" and "pipeline chunks" in outcome.detail:
                # More chunks than the split finds layers: not a failure.
                outcome.detail = "[too few layers] " + outcome.detail
            elif outcome.kind == "rejected" and plan_divides(spec, plan):
                # Not a failure (a pin may split what an op needs whole),
                # but listed apart in the summary.
                outcome.detail = "[pins divide] " + outcome.detail
            return outcome, commands
        return compare(ref_tensors, ref_loss, tensors, loss), commands


def first_error(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for index, line in enumerate(lines):
        if "error" in line:
            return " ".join(lines[index:index + 3])[:400]
    return first_lines(text)


def first_lines(text, count=6):
    lines = [l for l in text.splitlines() if l.strip()]
    return "\n".join(l[:300] for l in lines[:count])


def compare(ref, ref_loss, got, loss):
    errors = {}
    gradients = [np.abs(t).max() for n, t in ref.items() if n.endswith(".momentum_buffer") and t.size]
    scale = max(gradients, default=0.0)
    for name, expected in ref.items():
        # A trainable weight after the step is w - lr * g: its gradient
        # (the momentum buffer) is compared instead.
        if name + ".momentum_buffer" in ref:
            continue
        if name not in got:
            errors[name] = float("inf")
            continue
        actual = got[name].astype(np.float64)
        expected = expected.astype(np.float64)
        if actual.shape != expected.shape:
            errors[name] = float("inf")
            continue
        if not actual.size:
            continue
        if not np.all(np.isfinite(actual)):
            errors[name] = float("inf")
            continue
        difference = np.abs(actual - expected).max()
        if difference < ABSOLUTE_FLOOR:
            continue
        largest = max(np.abs(expected).max(), np.abs(actual).max())
        if name.endswith(".momentum_buffer"):
            error = difference / max(scale, 1e-30)
            gross = difference / max(largest, GROSS_FLOOR * scale, 1e-30)
            if error >= TOLERANCE or gross >= GROSS_TOLERANCE:
                errors[name] = float(max(error, gross if gross >= GROSS_TOLERANCE else 0))
        else:  # BatchNorm running statistics
            error = difference / max(largest, 1e-30)
            if error >= TOLERANCE:
                errors[name] = float(error)
    if not gradients:
        # Nothing to compare would make every plan pass.
        return Outcome("unsupported", "the graph has no trainable parameter")
    loss_error = abs(loss - ref_loss) / max(abs(ref_loss), 1e-12)
    if loss_error >= TOLERANCE and abs(loss - ref_loss) >= ABSOLUTE_FLOOR:
        errors["(loss)"] = loss_error
    if not errors:
        return Outcome("ok")
    worst = max(errors.values())
    listed = sorted(errors.items(), key=lambda kv: -kv[1])
    detail = ", ".join(f"{n.replace('.momentum_buffer', ' grad')} {e:.1e}" for n, e in listed[:8])
    if len(listed) > 8:
        detail += f", ... ({len(listed)} tensors)"
    return Outcome("mismatch", detail, errors, worst)


def parameter_shapes(spec):
    model, _, _ = build_graph(spec)
    return {t.name: list(t.dims) for t in model.graph.initializer
            if t.data_type == TensorProto.FLOAT and "running_" not in t.name}


# --------------------------------------------------------------------------
# Shrinking


def shrink_candidates(spec, plan):
    """Smaller variants of a failing (graph, plan), most promising first."""
    for i in range(len(plan["pins"])):
        yield spec, {**plan, "pins": plan["pins"][:i] + plan["pins"][i + 1:]}
    if plan["kind"] == "pipeline":
        if plan["schedule"] != "1f1b":
            yield spec, {**plan, "schedule": "1f1b", "virtual_stages": 1}
        if plan["micro_batches"] > 1 and plan["schedule"] != "interleaved":
            yield spec, {**plan, "micro_batches": 1}
    if plan["zero"]:
        yield spec, {**plan, "zero": 0}
    if plan.get("bucket_mb") is not None:
        yield spec, {**plan, "bucket_mb": None}
    if plan["grid"] and "," in plan["grid"]:
        # One axis of the grid alone, pins restricted to it.
        axes = grid_axes(plan["grid"])
        for keep, size in axes.items():
            if plan["kind"] == "pipeline" and keep != "pp":
                continue

            def restrict(part):
                kept = [a for a in part.split("*") if a == keep]
                return kept[0] if kept else "-"
            pins = [f"{pin.split('=')[0]}=" + ",".join(restrict(part) for part in pin.split("=")[1].split(","))
                    for pin in plan["pins"]]
            yield spec, {**plan, "grid": f"{keep}={size}", "devices": size, "pins": pins,
                         "zero": plan["zero"] if keep == "dp" else 0}
    elif not plan["grid"] and plan["devices"] > 2:
        yield spec, {**plan, "devices": 2}

    def layer_lists(layers, path=()):
        yield path, layers
        for index, layer in enumerate(layers):
            if "body" in layer:
                yield from layer_lists(layer["body"], path + (index,))

    def replaced(path, new_layers):
        result = copy.deepcopy(spec)
        target = result["layers"]
        for index in path:
            target = target[index]["body"]
        target[:] = new_layers
        return result

    for path, layers in list(layer_lists(spec["layers"])):
        for index in range(len(layers)):
            if path and len(layers) == 1:
                continue
            yield replaced(path, layers[:index] + layers[index + 1:]), plan
            if "body" in layers[index]:
                body = [{**l, "id": f"{layers[index]['id']}b{j}"} for j, l in enumerate(layers[index]["body"])]
                yield replaced(path, layers[:index] + body + layers[index + 1:]), plan
    if spec["loss"] != "mse":
        yield {**spec, "loss": "mse"}, plan
    for key, value in spec["input"].items():
        if isinstance(value, int) and key != "batch":
            for smaller in sorted({1, 2, value // 2, value - 1}):
                if 1 <= smaller < value:
                    yield {**spec, "input": {**spec["input"], key: smaller}}, plan
    batch = spec["input"]["batch"]
    for smaller in sorted({plan["devices"], 2, batch // 2}):
        if 1 <= smaller < batch:
            yield {**spec, "input": {**spec["input"], "batch": smaller}}, plan
    for path, layers in list(layer_lists(spec["layers"])):
        for index, layer in enumerate(layers):
            for key, value in layer.items():
                if value is True:  # bias, causal, fused, ...: try without
                    new_layers = copy.deepcopy(layers)
                    new_layers[index][key] = False
                    yield replaced(path, new_layers), plan
            for key in FAMILY[layer["op"]].sizes:
                value = layer[key]
                for smaller in sorted({1, 2, value // 2, value - 1}):
                    if 1 <= smaller < value:
                        new_layers = copy.deepcopy(layers)
                        new_layers[index][key] = smaller
                        yield replaced(path, new_layers), plan
    if plan["kind"] == "auto+grid" and not plan["pins"]:
        yield spec, {**plan, "kind": "auto", "grid": None}


def still_valid(spec, plan):
    try:
        params = parameter_shapes(spec)
    except Invalid:
        return None
    pins = [p for p in plan["pins"] if p.split("=")[0] in params
            and len(params[p.split("=")[0]]) == len(p.split("=")[1].split(","))]
    return {**plan, "pins": pins}


def shrink(runner, spec, plan, outcome, budget):
    attempts = 0
    progress = True
    while progress and attempts < budget:
        progress = False
        for candidate_spec, candidate_plan in shrink_candidates(spec, plan):
            if attempts >= budget:
                break
            candidate_plan = still_valid(candidate_spec, candidate_plan)
            if candidate_plan is None:
                continue
            attempts += 1
            result, _ = runner.check(candidate_spec, candidate_plan)
            if result.kind == outcome.kind:
                spec, plan, outcome = candidate_spec, candidate_plan, result
                progress = True
                print(f"    shrunk ({attempts}): {len(spec['layers'])} layer(s), input {spec['input']}, "
                      f"{len(plan['pins'])} pin(s)", flush=True)
                break
    return spec, plan, outcome


def reproducer(runner, spec, plan, outcome):
    _, commands = runner.check(spec, plan)
    path = runner.case_dir(spec)
    case = os.path.join(path, "case.json")
    with open(case, "w") as file:
        json.dump({"graph": spec, "plan": plan}, file, indent=1)
    lines = [f"  {outcome.kind}: {outcome.detail}",
             "  graph:", *("  " + l for l in describe(spec).splitlines()),
             f"  plan: {shell(plan_flags(plan))}  ({plan['devices']} ranks)",
             "  reproduce:",
             f"    /usr/bin/python3 {os.path.relpath(__file__, ROOT)} --replay {case}",
             *("    " + shell(c) for c in commands)]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Driver


def load_expected(path):
    expected = {}
    if path:
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, reason = line.partition(" ")
                if not reason.strip():
                    sys.exit(f"{path}: '{key}' has no reason")
                expected[key] = reason.strip()
    return expected


def check_ops(cleavec):
    supported = set(subprocess.run([cleavec, "--list-ops"], capture_output=True, text=True,
                                   check=True).stdout.split())
    missing = {f.name: [o for o in f.ops if o not in supported] for f in FAMILIES}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        sys.exit(f"cleavec does not list ops the fuzzer's families emit: {missing}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cleavec", default=os.path.join(ROOT, "build", "bin", "cleavec"))
    parser.add_argument("--workdir", default="/tmp/cleave-plan-fuzz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=10, help="graphs to draw")
    parser.add_argument("--plans", type=int, default=3, help="plans per graph")
    parser.add_argument("--pipeline-plans", type=int, default=1,
                        help="pipeline plans per graph of 2 layers or more (pair ids SEED:N:pK)")
    parser.add_argument("--only", type=int, help="only graph number N of the seed")
    parser.add_argument("--no-shrink", action="store_true")
    parser.add_argument("--shrink-budget", type=int, default=80, help="pair runs per failure")
    parser.add_argument("--expected-failures", help="pair ids that fail, with a reason")
    parser.add_argument("--replay", help="a case.json a reproducer names")
    parser.add_argument("--corpus", help="a folder of recorded cases (case.json files) to run too")
    parser.add_argument("--show", action="store_true", help="print each graph")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--self-check", action="store_true",
                        help="first require a run with perturbed data to be reported")
    parser.add_argument("--pipelines", action="store_true",
                        help="run each drawn plan of up to 2 devices on 2 pipeline stages "
                             "(--grid pp=2,..., 1 or 2 micro-batches) instead")
    parser.add_argument("--keep", action="store_true",
                        help="keep the executables of graphs whose pairs all passed")
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    check_ops(args.cleavec)
    os.makedirs(args.workdir, exist_ok=True)
    runner = Runner(args.cleavec, args.workdir, args.verbose)

    if args.replay:
        case = json.load(open(args.replay))
        print(describe(case["graph"]))
        print("plan:", shell(plan_flags(case["plan"])))
        outcome, _ = runner.check(case["graph"], case["plan"])
        print(f"{outcome.kind}: {outcome.detail}")
        return 1 if outcome.failed else 0

    expected = load_expected(args.expected_failures)
    started = time.time()
    if args.self_check:
        # The comparison must be able to fail: graph 0's first plan, its
        # N-rank run fed data with one value changed, must differ.
        rng = random.Random(stable_seed(args.seed, 0))
        spec = generate_graph(rng, stable_seed(args.seed, 0, "weights") % 2**31)
        plan = generate_plans(rng, spec, parameter_shapes(spec), 1)[0]
        outcome, _ = runner.check(spec, plan, perturb=True)
        runner.pairs -= 1
        print(f"self-check (data perturbed on the N-rank side): {outcome.kind} ({outcome.detail[:200]})")
        if outcome.kind != "mismatch":
            print("FAILED: the self-check's perturbed run was not reported as a mismatch")
            return 1
    failures, seen, counts = [], set(), {}
    rejections = {}
    indices = [args.only] if args.only is not None else range(args.count)
    for case_path in sorted(os.listdir(args.corpus)) if args.corpus else []:
        # Recorded reproducers: each a regression test once its bug is fixed.
        pair = "corpus:" + os.path.splitext(case_path)[0]
        case = json.load(open(os.path.join(args.corpus, case_path)))
        seen.add(pair)
        outcome, _ = runner.check(case["graph"], case["plan"])
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
        marker = ""
        if outcome.failed and pair not in expected:
            failures.append(pair)
        elif outcome.failed:
            marker = " [expected]"
        elif pair in expected:
            marker = " [UNEXPECTED PASS: remove it from the expected failures]"
            failures.append(pair)
        print(f"  {pair} {shell(plan_flags(case['plan']))}  {outcome.kind} {outcome.detail[:300]}{marker}",
              flush=True)
    for index in indices:
        rng = random.Random(stable_seed(args.seed, index))
        spec = generate_graph(rng, stable_seed(args.seed, index, "weights") % 2**31)
        plans = generate_plans(rng, spec, parameter_shapes(spec), args.plans)
        if args.pipelines:
            plans = [pipeline_variant(spec, plan, stable_seed(args.seed, index, number, "pp"))
                     for number, plan in enumerate(plans) if plan["devices"] <= 2]
        # Pipeline plans from a stream of their own: the plans above, and so
        # every recorded pair id, do not change with --pipeline-plans.
        pipeline_rng = random.Random(stable_seed(args.seed, index, "pipeline"))
        pipeline_plans = [] if args.pipelines else generate_pipeline_plans(
            pipeline_rng, spec, parameter_shapes(spec), args.pipeline_plans)
        print(f"graph {args.seed}:{index}: {spec['input']['kind']} {input_shape(spec)}, "
              f"{len(spec['layers'])} layer(s) [{' '.join(l['op'] for l in spec['layers'])}], "
              f"loss {spec['loss']}", flush=True)
        if args.show:
            print(describe(spec))
        numbered = [(str(i), plan) for i, plan in enumerate(plans)]
        numbered += [(f"p{i}", plan) for i, plan in enumerate(pipeline_plans)]
        for plan_index, plan in numbered:
            pair = f"{args.seed}:{index}:{plan_index}"
            seen.add(pair)
            outcome, _ = runner.check(spec, plan)
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
            status = outcome.kind + (f" ({outcome.detail})" if outcome.detail else "")
            if outcome.kind == "rejected":
                rejections[outcome.detail] = rejections.get(outcome.detail, 0) + 1
            marker = ""
            if outcome.failed:
                marker = " [expected]" if pair in expected else ""
                if pair not in expected:
                    failures.append(pair)
            elif pair in expected:
                marker = " [UNEXPECTED PASS: remove it from the expected failures]"
                failures.append(pair)
            print(f"  {pair} {shell(plan_flags(plan)):<60} {status[:400]}{marker}", flush=True)
            if outcome.failed and pair not in expected and not args.no_shrink:
                small_spec, small_plan, small = shrink(runner, spec, plan, outcome, args.shrink_budget)
                print(f"  minimal reproducer for {pair}:")
                print(reproducer(runner, small_spec, small_plan, small), flush=True)
            if outcome.kind == "unsupported":
                break
        if not args.keep and not any(p.startswith(f"{args.seed}:{index}:") for p in failures):
            shutil.rmtree(runner.case_dir(spec), ignore_errors=True)
            runner.references.clear()
    stale = [key for key in expected if key not in seen and args.only is None and (
        key.split(":")[0] == str(args.seed) or (key.startswith("corpus:") and args.corpus))]
    for key in stale:
        print(f"expected failure {key} was not run (the seed set changed?): update the list")
        failures.append(key)
    elapsed = time.time() - started
    print(f"\n{runner.pairs} graph x plan pairs ({len(list(indices))} graphs, {runner.compiles} "
          f"compiles) in {elapsed:.0f} s: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for detail, count in sorted(rejections.items(), key=lambda kv: -kv[1]):
        print(f"  rejected x{count}: {detail}")
    if failures:
        print("FAILED: " + " ".join(failures))
        return 1
    print("all pairs agree with one device" + (" (expected failures aside)" if expected else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
