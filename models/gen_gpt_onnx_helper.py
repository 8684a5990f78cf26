#!/usr/bin/python3
"""Generate a GPT written directly with onnx.helper, as non-PyTorch exporters write it.

The same mathematics as gen_gpt.py (pre-LayerNorm decoder, tied head, exact
GELU, no dropout), in another idiom:

  * weights in [in, out] layout: MatMul(x, W) + bias Add, no Transpose;
  * one Split (sizes from an int64 initializer) into q, k, v;
  * Reshape to heads with constant shapes (int64 initializers, no Shape/Concat);
  * an additive causal mask: one Constant float[T,T] of 0 / -1e9, shared by
    the layers, added to the scores (not Where with -inf);
  * scores divided by sqrt(head_dim); GELU as 0.5 * x * (1 + Erf(x / sqrt 2));
  * LayerNormalization at opset 17, the ReduceMean/Sub/Pow/Sqrt/Div form below.

Parameter names are those such graphs typically carry: wte, wpe,
h.<i>.ln1.{weight,bias}, h.<i>.attn.qkv.{weight,bias} ([C, 3C] / [3C]),
h.<i>.attn.proj.*, h.<i>.ln2.*, h.<i>.mlp.fc.*, h.<i>.mlp.proj.*, ln_f.*.
The head multiplies by wte transposed (tied, as in gen_gpt.py).

Toy and small presets carry real random weights (numpy, seeded; the same
N(0, 0.02) / N(1, 0.1) scheme as gen_gpt.py). --shapes-only (implied by the
GPT-3 presets) declares every weight as external data in <stem>.weights that
is never written, so GPT-3 1.3B costs a few MB (most of it the mask).

Needs only numpy and onnx (Debian's /usr/bin/python3 has both):

    /usr/bin/python3 models/gen_gpt_onnx_helper.py --preset toy -o gpt_helper_toy.onnx
    /usr/bin/python3 models/gen_gpt_onnx_helper.py --preset gpt3-1.3b --batch 64 -o g13.onnx
"""

import argparse
import dataclasses
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Config:
    vocab: int
    block_size: int
    layers: int
    heads: int
    embd: int
    batch: int
    seq: int
    shapes_only: bool


# The sizes of gen_gpt.py's presets of the same names, so that the two idioms
# can be compared size for size.
PRESETS = {
    "toy": Config(64, 16, 2, 2, 32, batch=2, seq=16, shapes_only=False),
    "small": Config(256, 64, 4, 4, 128, batch=4, seq=64, shapes_only=False),
    "gpt2-124m": Config(50257, 1024, 12, 12, 768, batch=1, seq=1024, shapes_only=True),
    "gpt3-350m": Config(51200, 1024, 24, 16, 1024, batch=1, seq=1024, shapes_only=True),
    "gpt3-1.3b": Config(51200, 1024, 24, 32, 2048, batch=1, seq=1024, shapes_only=True),
    "gpt3-2.7b": Config(51200, 1024, 32, 32, 2560, batch=1, seq=1024, shapes_only=True),
    "gpt3-6.7b": Config(51200, 1024, 32, 32, 4096, batch=1, seq=1024, shapes_only=True),
}


class Builder:
    def __init__(self, cfg: Config, opset: int, seed: int, weights_location: str, idiom):
        self.cfg, self.opset, self.idiom = cfg, opset, idiom
        self.rng = np.random.default_rng(seed)
        self.weights_location = weights_location
        self.data_offset = 0
        self.nodes, self.initializers = [], []
        self.counter = 0

    # -- primitives --------------------------------------------------------

    def name(self, hint):
        self.counter += 1
        return f"{hint}_{self.counter}"

    def op(self, op_type, inputs, n_outputs=1, **attrs):
        node = self.name(op_type)
        outputs = [f"{node}_out{i}" for i in range(n_outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=node, **attrs))
        return outputs[0] if n_outputs == 1 else outputs

    def const(self, value, dtype=np.float32):
        """A Constant node: not an initializer, so that no importer takes it for a weight."""
        return self.op("Constant", [], value=numpy_helper.from_array(np.array(value, dtype=dtype)))

    def ints(self, hint, values):
        """An int64 initializer (shapes, split sizes), the way onnx.helper users write them."""
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def param(self, name, dims, mean=0.0, std=0.02):
        if self.cfg.shapes_only:
            tensor = TensorProto()
            tensor.name, tensor.data_type = name, TensorProto.FLOAT
            tensor.dims.extend(dims)
            tensor.data_location = TensorProto.EXTERNAL
            length = 4 * math.prod(dims)
            for key, value in (("location", self.weights_location),
                               ("offset", str(self.data_offset)), ("length", str(length))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
            self.data_offset += length
        else:
            values = self.rng.normal(mean, std, dims).astype(np.float32)
            tensor = numpy_helper.from_array(values, name)
        self.initializers.append(tensor)
        return name

    # -- layers ------------------------------------------------------------

    def linear(self, x, prefix, n_in, n_out):
        weight = self.param(prefix + ".weight", [n_in, n_out])
        bias = self.param(prefix + ".bias", [n_out])
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x, prefix):
        C = self.cfg.embd
        scale = self.param(prefix + ".weight", [C], mean=1.0, std=0.1)
        shift = self.param(prefix + ".bias", [C], std=0.1)
        if self.opset >= 17:
            return self.op("LayerNormalization", [x, scale, shift], axis=-1, epsilon=1e-5)
        mean = self.op("ReduceMean", [x], axes=[-1])
        centered = self.op("Sub", [x, mean])
        var = self.op("ReduceMean", [self.op("Pow", [centered, self.const(2.0)])], axes=[-1])
        std = self.op("Sqrt", [self.op("Add", [var, self.const(1e-5)])])
        return self.op("Add", [self.op("Mul", [self.op("Div", [centered, std]), scale]), shift])

    def attention(self, x, prefix, mask):
        cfg = self.cfg
        B, T, C, H = cfg.batch, cfg.seq, cfg.embd, cfg.heads
        D = C // H
        qkv = self.linear(x, prefix + ".qkv", C, 3 * C)
        sizes = [self.ints("qkv_sizes", [C, C, C])] if self.idiom.split == "sizes" else []
        q, k, v = self.op("Split", [qkv, *sizes], n_outputs=3, axis=2)
        heads = self.ints("heads_shape", [B, T, H, D] if self.idiom.reshape == "explicit"
                          else [0, 0, H, -1])
        q = self.op("Transpose", [self.op("Reshape", [q, heads])], perm=[0, 2, 1, 3])
        k = self.op("Transpose", [self.op("Reshape", [k, heads])], perm=[0, 2, 3, 1])
        v = self.op("Transpose", [self.op("Reshape", [v, heads])], perm=[0, 2, 1, 3])
        scores = self.op("Div", [self.op("MatMul", [q, k]), self.const(math.sqrt(D))])
        probs = self.op("Softmax", [self.op("Add", [scores, mask])], axis=-1)
        y = self.op("Transpose", [self.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        y = self.op("Reshape", [y, self.ints("merge_shape", [B, T, C])])
        return self.linear(y, prefix + ".proj", C, C)

    def mlp(self, x, prefix):
        C = self.cfg.embd
        h = self.linear(x, prefix + ".fc", C, 4 * C)
        erf = self.op("Erf", [self.op("Div", [h, self.const(math.sqrt(2.0))])])
        h = self.op("Mul", [self.op("Mul", [h, self.const(0.5)]),
                            self.op("Add", [erf, self.const(1.0)])])
        return self.linear(h, prefix + ".proj", 4 * C, C)

    def build(self) -> onnx.ModelProto:
        cfg = self.cfg
        wte = self.param("wte", [cfg.vocab, cfg.embd])
        wpe = self.param("wpe", [cfg.block_size, cfg.embd])
        positions = self.const(np.arange(cfg.seq), np.int64)
        x = self.op("Add", [self.op("Gather", [wte, "idx"]), self.op("Gather", [wpe, positions])])
        causal = np.triu(np.full((cfg.seq, cfg.seq), -1e9, np.float32), k=1)
        if self.idiom.mask == "initializer":
            # Often written so; the importer then takes it for a weight (see --freeze).
            self.initializers.append(numpy_helper.from_array(causal, "causal_mask"))
            mask = "causal_mask"
        else:
            mask = self.const(causal)
        for i in range(cfg.layers):
            p = f"h.{i}"
            x = self.op("Add", [x, self.attention(self.layer_norm(x, p + ".ln1"), p + ".attn", mask)])
            x = self.op("Add", [x, self.mlp(self.layer_norm(x, p + ".ln2"), p + ".mlp")])
        x = self.layer_norm(x, "ln_f")
        head = self.op("Transpose", [wte], perm=[1, 0])
        self.nodes.append(helper.make_node("MatMul", [x, head], ["logits"], name="lm_head"))
        graph = helper.make_graph(
            self.nodes, "gpt_onnx_helper",
            inputs=[helper.make_tensor_value_info("idx", TensorProto.INT64, [cfg.batch, cfg.seq])],
            outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                   [cfg.batch, cfg.seq, cfg.vocab])],
            initializer=self.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                 ir_version=8, producer_name="cleave-gen_gpt_onnx_helper")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=PRESETS, default="toy")
    for field in ("vocab", "block-size", "layers", "heads", "embd", "batch", "seq"):
        parser.add_argument("--" + field, type=int)
    parser.add_argument("--shapes-only", action="store_true",
                        help="declare the weights as external data that is never written "
                             "(implied by presets larger than 'small')")
    parser.add_argument("--opset", type=int, default=17, choices=range(13, 18))
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--split", choices=("sizes", "equal"), default="sizes",
                        help="Split with an int64 sizes input, or equal parts without one")
    parser.add_argument("--reshape", choices=("explicit", "inferred"), default="explicit",
                        help="head shapes [B,T,H,D], or [0,0,H,-1] (copied and inferred dims)")
    parser.add_argument("--mask", choices=("constant", "initializer"), default="constant",
                        help="the additive mask as a Constant node or as a float initializer")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)

    preset = PRESETS[args.preset]
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
               if f.name != "shapes_only" and getattr(args, f.name, None) is not None}
    if args.seq is None and "block_size" in changes:
        changes["seq"] = min(preset.seq, changes["block_size"])
    cfg = dataclasses.replace(preset, shapes_only=args.shapes_only or preset.shapes_only,
                              **changes)
    if cfg.embd % cfg.heads:
        parser.error(f"--embd {cfg.embd} is not divisible by --heads {cfg.heads}")
    if not 1 <= cfg.seq <= cfg.block_size:
        parser.error(f"--seq {cfg.seq} must be in [1, block size {cfg.block_size}]")
    print(f"GPT (onnx.helper idiom) vocab={cfg.vocab} block={cfg.block_size} layers={cfg.layers} "
          f"heads={cfg.heads} embd={cfg.embd} batch={cfg.batch} seq={cfg.seq}")

    stem = os.path.splitext(os.path.basename(args.output))[0]
    model = Builder(cfg, args.opset, args.seed, stem + ".weights", args).build()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    onnx.save_model(model, args.output)
    common.check_and_summarize(args.output, has_data_file=not cfg.shapes_only)


if __name__ == "__main__":
    main()
