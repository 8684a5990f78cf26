#!/usr/bin/python3
"""Generate a GPT-2 style decoder-only transformer as ONNX.

Architecture (nanoGPT layout and parameter names):
  idx int64[B,T] -> wte(idx) + wpe(arange(T)) -> Dropout
  -> N x [ x + Attn(LN(x)),  x + MLP(LN(x)) ]          (pre-LayerNorm blocks)
  -> LN -> lm_head (no bias, weight tied to wte) -> logits float[B,T,V]
  Attn: fused qkv Linear (c_attn) -> split -> heads -> softmax(q k^T / sqrt(d) + causal mask)
        -> Dropout -> @ v -> merge heads -> c_proj -> Dropout
  MLP:  c_fc (4x) -> GELU (exact, erf) -> c_proj -> Dropout

Two ways to produce the graph:
  * PyTorch export (toy/small presets, or any explicit sizes): the model is
    instantiated and exported with torch.onnx.export; weights are real.
  * --shapes-only (implied by the large presets): the graph the train-mode
    export would produce is written directly with onnx.helper.  Every
    initializer is declared as external data in <output stem>.weights, but
    that file is never written and no weight memory is allocated, so a 39B
    model costs a few hundred KB.  The only structural difference from the
    PyTorch export is the causal mask: torch folds it into a bool[T,T]
    Constant per layer (1 MB each at T=1024), the builder computes it with
    Range/Unsqueeze/Greater, which is what torch emits when T is not static.

Run with Debian's interpreter (it has PyTorch 1.13 and ONNX 1.12):

    /usr/bin/python3 models/gen_gpt.py --preset toy -o gpt_toy.onnx
    /usr/bin/python3 models/gen_gpt.py --preset toy --opset 13 --external-data -o gpt_ext.onnx
    /usr/bin/python3 models/gen_gpt.py --preset gpt-39b -o gpt-39b.onnx     # shapes only
"""

import argparse
import collections
import dataclasses
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    vocab: int
    block_size: int
    layers: int
    heads: int
    embd: int
    dropout: float = 0.0

    @property
    def head_dim(self) -> int:
        return self.embd // self.heads

    def param_count(self) -> int:
        h = self.embd
        # ln_1, ln_2 (4h) + c_attn (3h^2+3h) + attn c_proj (h^2+h) + c_fc (4h^2+4h) + mlp c_proj (4h^2+h)
        per_layer = 12 * h * h + 13 * h
        # The tied lm_head adds no parameters; ln_f adds 2h.
        return self.layers * per_layer + (self.vocab + self.block_size) * h + 2 * h


@dataclasses.dataclass(frozen=True)
class Preset:
    config: GPTConfig
    batch: int
    seq: int
    # Too big to instantiate on a build machine: only the shapes-only builder is used.
    shapes_only: bool


def _gpt3(layers, embd, heads):
    # Sizes as used by Alpa's GPT benchmarks: vocab 51200, sequence length 1024.
    return Preset(GPTConfig(51200, 1024, layers, heads, embd), batch=1, seq=1024, shapes_only=True)


def _alpa(layers, embd, heads):
    return dataclasses.replace(_gpt3(layers, embd, heads), batch=1024)


PRESETS = {
    "toy": Preset(GPTConfig(64, 16, 2, 2, 32), batch=2, seq=16, shapes_only=False),
    "small": Preset(GPTConfig(256, 64, 4, 4, 128), batch=4, seq=64, shapes_only=False),
    "gpt2-124m": Preset(GPTConfig(50257, 1024, 12, 12, 768), batch=1, seq=1024, shapes_only=True),
    "gpt3-350m": _gpt3(24, 1024, 16),
    "gpt3-1.3b": _gpt3(24, 2048, 32),
    "gpt3-2.7b": _gpt3(32, 2560, 32),
    "gpt3-6.7b": _gpt3(32, 4096, 32),
    "gpt3-13b": _gpt3(40, 5120, 40),
    "gpt-39b": _gpt3(48, 8192, 64),
    # Alpa's GPT suite (OSDI'22, Table 4; ../shared/ANCHORS.md): the same
    # shapes at its global batch of 1024 sequences of 1024 tokens.
    "alpa-1.3b": _alpa(24, 2048, 32),
    "alpa-2.6b": _alpa(32, 2560, 32),
    "alpa-15b": _alpa(48, 5120, 40),
    "alpa-39b": _alpa(48, 8192, 64),
}


# --------------------------------------------------------------------------
# PyTorch model
# --------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.heads
        self.n_embd = cfg.embd
        self.head_dim = cfg.head_dim
        self.c_attn = nn.Linear(cfg.embd, 3 * cfg.embd)
        self.c_proj = nn.Linear(cfg.embd, cfg.embd)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        B, T, C = x.size()
        hd = C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        # A Python int (not the traced hd) so that the tracer does not warn.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        # Built from arange comparisons instead of torch.tril / a registered
        # buffer: tril has no ONNX symbolic before opset 14, and a buffer would
        # become an extra initializer.
        mask = torch.arange(T, device=x.device)[None, :] > torch.arange(T, device=x.device)[:, None]
        att = att.masked_fill(mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.embd, 4 * cfg.embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * cfg.embd, cfg.embd)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.embd)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocab, cfg.embd),
            wpe=nn.Embedding(cfg.block_size, cfg.embd),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg.layers)]),
            ln_f=nn.LayerNorm(cfg.embd),
        ))
        self.lm_head = nn.Linear(cfg.embd, cfg.vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight
        # GPT-2's N(0, 0.02) weights keep the logits of the tied head in a
        # sane range (PyTorch's default N(0,1) embedding init would not).
        # Unlike GPT-2, biases and LayerNorm affine parameters are random too:
        # with zeros and ones a compiler that dropped them would still match
        # PyTorch, and the eval export would merge the identical tensors.
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.normal_(module.bias, mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                nn.init.normal_(module.weight, mean=1.0, std=0.1)
                nn.init.normal_(module.bias, mean=0.0, std=0.1)

    def forward(self, idx):
        _, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# --------------------------------------------------------------------------
# Shapes-only builder
# --------------------------------------------------------------------------

def parameter_shapes(cfg: GPTConfig):
    """(name, dims) of every parameter, in PyTorch state_dict order."""
    h = cfg.embd
    shapes = [("transformer.wte.weight", [cfg.vocab, h]),
              ("transformer.wpe.weight", [cfg.block_size, h])]
    for i in range(cfg.layers):
        p = f"transformer.h.{i}."
        shapes += [
            (p + "ln_1.weight", [h]), (p + "ln_1.bias", [h]),
            (p + "attn.c_attn.weight", [3 * h, h]), (p + "attn.c_attn.bias", [3 * h]),
            (p + "attn.c_proj.weight", [h, h]), (p + "attn.c_proj.bias", [h]),
            (p + "ln_2.weight", [h]), (p + "ln_2.bias", [h]),
            (p + "mlp.c_fc.weight", [4 * h, h]), (p + "mlp.c_fc.bias", [4 * h]),
            (p + "mlp.c_proj.weight", [h, 4 * h]), (p + "mlp.c_proj.bias", [h]),
        ]
    shapes += [("transformer.ln_f.weight", [h]), ("transformer.ln_f.bias", [h])]
    return shapes


class ShapesOnlyBuilder:
    """Rebuilds, node for node, the graph of the train-mode torch.onnx.export of GPT.

    Node names, output names, node order, Constant values and attributes
    follow PyTorch 1.13 (for more than one layer) so that an importer sees the
    same thing whichever way a model was produced; verify_shapes_only.py
    checks this against a real export.
    """

    def __init__(self, cfg: GPTConfig, batch: int, seq: int, opset: int, weights_location: str):
        self.cfg, self.batch, self.seq, self.opset = cfg, batch, seq, opset
        self.weights_location = weights_location
        self.nodes = []
        self.initializers = []
        self.data_offset = 0
        self.name_counts = collections.Counter()
        self.anonymous_count = 0

    # -- primitives --------------------------------------------------------

    def external_param(self, name, dims):
        """A float32 initializer whose bytes live at the next offset of the weights file."""
        numel = 1
        for d in dims:
            numel *= d
        length = 4 * numel
        tensor = TensorProto()
        tensor.name = name
        tensor.dims.extend(dims)
        tensor.data_type = TensorProto.FLOAT
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.weights_location),
                           ("offset", str(self.data_offset)),
                           ("length", str(length))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        self.data_offset += length
        self.initializers.append(tensor)

    def op(self, scope, op_type, inputs, n_outputs=1, outputs=None, **attrs):
        # torch names nodes "<module scope>/<OpType>[_k]" and outputs "<node>_output_<i>".
        base = f"{scope}/{op_type}"
        k = self.name_counts[base]
        self.name_counts[base] += 1
        name = base if k == 0 else f"{base}_{k}"
        if outputs is None:
            outputs = [f"{name}_output_{i}" for i in range(n_outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def const(self, scope, value, dtype):
        return self.op(scope, "Constant", [], value=numpy_helper.from_array(np.array(value, dtype=dtype)))

    def unsqueeze0(self, scope, x):
        # torch emits the axes of view()-shape Unsqueezes as unscoped constants.
        self.anonymous_count += 1
        axes = f"onnx::Unsqueeze_{self.anonymous_count}"
        self.nodes.append(helper.make_node(
            "Constant", [], [axes], name=f"Constant_{self.anonymous_count}",
            value=numpy_helper.from_array(np.array([0], dtype=np.int64))))
        return self.op(scope, "Unsqueeze", [x, axes])

    def shape_of(self, scope, dims):
        return self.op(scope, "Concat", [self.unsqueeze0(scope, d) for d in dims], axis=0)

    def reshape(self, scope, x, shape):
        # allowzero exists from Reshape-14 on; torch always writes 0.
        attrs = {"allowzero": 0} if self.opset >= 14 else {}
        return self.op(scope, "Reshape", [x, shape], **attrs)

    # -- modules -----------------------------------------------------------

    def dropout(self, scope, x):
        ratio = self.const(scope, self.cfg.dropout, np.float32)
        training = self.const(scope, True, np.bool_)
        return self.op(scope, "Dropout", [x, ratio, training], n_outputs=2)[0]

    def layer_norm(self, scope, x, prefix):
        weight, bias = prefix + ".weight", prefix + ".bias"
        if self.opset >= 17:
            return self.op(scope, "LayerNormalization", [x, weight, bias], axis=-1, epsilon=1e-5)
        mean = self.op(scope, "ReduceMean", [x], axes=[-1])
        centered = self.op(scope, "Sub", [x, mean])
        squared = self.op(scope, "Pow", [centered, self.const(scope, 2.0, np.float32)])
        var = self.op(scope, "ReduceMean", [squared], axes=[-1])
        var_eps = self.op(scope, "Add", [var, self.const(scope, 1e-5, np.float32)])
        normed = self.op(scope, "Div", [centered, self.op(scope, "Sqrt", [var_eps])])
        return self.op(scope, "Add", [self.op(scope, "Mul", [normed, weight]), bias])

    def linear(self, scope, x, prefix):
        weight_t = self.op(scope, "Transpose", [prefix + ".weight"], perm=[1, 0])
        product = self.op(scope, "MatMul", [x, weight_t])
        return self.op(scope, "Add", [prefix + ".bias", product])

    def causal_mask(self, scope):
        # Range/Unsqueeze/Greater as torch exports it for a non-constant T;
        # the static export folds this into one bool[T,T] Constant per layer.
        limit = self.const(scope, self.seq, np.int64)
        start = self.const(scope, 0, np.int64)
        delta = self.const(scope, 1, np.int64)
        positions = self.op(scope, "Range", [start, limit, delta])
        row = self.op(scope, "Unsqueeze", [positions, self.const(scope, [0], np.int64)])
        col = self.op(scope, "Unsqueeze", [positions, self.const(scope, [1], np.int64)])
        return self.op(scope, "Greater", [row, col])

    def attention(self, scope, x, prefix):
        cfg = self.cfg
        H = self.heads
        B = self.const(scope, self.batch, np.int64)
        T = self.const(scope, self.seq, np.int64)
        C = self.const(scope, cfg.embd, np.int64)
        D = self.const(scope, cfg.head_dim, np.int64)
        qkv = self.linear(scope + "/c_attn", x, prefix + ".c_attn")
        sizes = self.const(scope, [cfg.embd] * 3, np.int64)
        q, k, v = self.op(scope, "Split", [qkv, sizes], n_outputs=3, axis=2)
        q_shape, k_shape, v_shape = (self.shape_of(scope, [B, T, H, D]) for _ in range(3))
        q = self.op(scope, "Transpose", [self.reshape(scope, q, q_shape)], perm=[0, 2, 1, 3])
        k = self.reshape(scope, k, k_shape)
        v = self.op(scope, "Transpose", [self.reshape(scope, v, v_shape)], perm=[0, 2, 1, 3])
        # view().transpose(1,2).transpose(-2,-1) on k is merged into a single perm.
        k_t = self.op(scope, "Transpose", [k], perm=[0, 2, 3, 1])
        scores = self.op(scope, "MatMul", [q, k_t])
        scores = self.op(scope, "Mul", [scores, self.const(scope, 1.0 / math.sqrt(cfg.head_dim), np.float32)])
        # Own sub-scope so that the remaining node names stay those of the export.
        mask = self.op(scope, "Cast", [self.causal_mask(scope + "/mask")], to=TensorProto.BOOL)
        scores = self.op(scope, "Where", [mask, self.const(scope, -np.inf, np.float32), scores])
        probs = self.op(scope, "Softmax", [scores], axis=-1)
        probs = self.dropout(scope + "/attn_dropout", probs)
        y = self.op(scope, "Transpose", [self.op(scope, "MatMul", [probs, v])], perm=[0, 2, 1, 3])
        y = self.reshape(scope, y, self.shape_of(scope, [B, T, C]))
        y = self.linear(scope + "/c_proj", y, prefix + ".c_proj")
        return self.dropout(scope + "/resid_dropout", y)

    def mlp(self, scope, x, prefix):
        h = self.linear(scope + "/c_fc", x, prefix + ".c_fc")
        g = scope + "/gelu"
        erf = self.op(g, "Erf", [self.op(g, "Div", [h, self.const(g, math.sqrt(2.0), np.float32)])])
        gate = self.op(g, "Add", [erf, self.const(g, 1.0, np.float32)])
        h = self.op(g, "Mul", [self.op(g, "Mul", [h, gate]), self.const(g, 0.5, np.float32)])
        h = self.linear(scope + "/c_proj", h, prefix + ".c_proj")
        return self.dropout(scope + "/dropout", h)

    def build(self) -> onnx.ModelProto:
        cfg = self.cfg
        for name, dims in parameter_shapes(cfg):
            self.external_param(name, dims)

        # The JIT pools the Python int n_head shared by all layers into one
        # Constant at the top of the graph; B, T, C, head_dim come from folded
        # size() calls and stay per layer.
        self.heads = self.const("", cfg.heads, np.int64)
        positions = self.const("", np.arange(self.seq), np.int64)
        tok = self.op("/wte", "Gather", ["transformer.wte.weight", "idx"])
        pos = self.op("/wpe", "Gather", ["transformer.wpe.weight", positions])
        x = self.dropout("/drop", self.op("", "Add", [tok, pos]))
        for i in range(cfg.layers):
            scope, prefix = f"/h.{i}", f"transformer.h.{i}"
            a = self.attention(scope + "/attn", self.layer_norm(scope + "/ln_1", x, prefix + ".ln_1"),
                               prefix + ".attn")
            x = self.op(scope, "Add", [x, a])
            m = self.mlp(scope + "/mlp", self.layer_norm(scope + "/ln_2", x, prefix + ".ln_2"),
                         prefix + ".mlp")
            x = self.op(scope, "Add", [x, m])
        x = self.layer_norm("/ln_f", x, "transformer.ln_f")
        # Tied head: torch transposes the embedding table itself, no lm_head.weight exists.
        wte_t = self.op("/lm_head", "Transpose", ["transformer.wte.weight"], perm=[1, 0])
        self.op("/lm_head", "MatMul", [x, wte_t], outputs=["logits"])

        graph = helper.make_graph(
            self.nodes, "torch_jit",
            inputs=[helper.make_tensor_value_info("idx", TensorProto.INT64, [self.batch, self.seq])],
            outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                   [self.batch, self.seq, cfg.vocab])],
            initializer=self.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                 ir_version=7 if self.opset < 15 else 8,  # as torch 1.13 does
                                 producer_name="cleave-gen_gpt",
                                 producer_version="shapes-only")


def build_shapes_only(cfg, batch, seq, opset, path) -> onnx.ModelProto:
    stem = os.path.splitext(os.path.basename(path))[0]
    return ShapesOnlyBuilder(cfg, batch, seq, opset, stem + ".weights").build()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def resolve_config(args, parser):
    preset = PRESETS[args.preset]
    fields = {f: getattr(args, f) for f in ("vocab", "block_size", "layers", "heads", "embd")}
    cfg = dataclasses.replace(preset.config, dropout=args.dropout,
                              **{k: v for k, v in fields.items() if v is not None})
    batch = args.batch if args.batch is not None else preset.batch
    seq = args.seq if args.seq is not None else min(preset.seq, cfg.block_size)
    if cfg.embd % cfg.heads:
        parser.error(f"--embd {cfg.embd} is not divisible by --heads {cfg.heads}")
    if not 1 <= seq <= cfg.block_size:
        parser.error(f"--seq {seq} must be in [1, block size {cfg.block_size}]")
    return cfg, batch, seq, args.shapes_only or preset.shapes_only


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=PRESETS, default="toy",
                        help="base sizes; the size options below override single fields")
    parser.add_argument("--vocab", type=int)
    parser.add_argument("--block-size", type=int, help="number of learned positions")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--embd", type=int, help="hidden size")
    parser.add_argument("--seq", type=int, help="static sequence length T (default: preset's)")
    parser.add_argument("--dropout", type=float, default=0.0, help="p of every Dropout (default 0.0)")
    parser.add_argument("--shapes-only", action="store_true",
                        help="write the graph with onnx.helper, weights declared as external data "
                             "that is never written (implied by presets larger than 'small')")
    parser.add_argument("--external-data", action="store_true",
                        help="PyTorch export only: move the real weights to <output stem>.weights")
    common.add_common_args(parser, default_batch=None)
    args = parser.parse_args(argv)

    cfg, batch, seq, shapes_only = resolve_config(args, parser)
    print(f"GPT vocab={cfg.vocab} block={cfg.block_size} layers={cfg.layers} heads={cfg.heads} "
          f"embd={cfg.embd} batch={batch} seq={seq} params={cfg.param_count():,}")

    if shapes_only:
        if args.mode != "train":
            parser.error("--shapes-only mirrors the train-mode export; --mode eval needs PyTorch")
        if args.dynamic_batch:
            parser.error("--shapes-only writes static shapes; --dynamic-batch needs PyTorch")
        model = build_shapes_only(cfg, batch, seq, args.opset, args.output)
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        onnx.save_model(model, args.output)
        common.check_and_summarize(args.output, has_data_file=False)
        return

    torch.manual_seed(args.seed)
    model = GPT(cfg)
    idx = torch.randint(0, cfg.vocab, (batch, seq))
    common.export(model, [idx], args.output, input_names=["idx"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    if args.external_data:
        data_path = common.resave_with_external_data(args.output)
        print(f"weights: {data_path} ({os.path.getsize(data_path):,} bytes)")
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
