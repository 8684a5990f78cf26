#!/usr/bin/python3
"""Generate a small Llama-style decoder as ONNX, with registered buffers.

Graph: idx int64[B, T] -> tok_embeddings -> L x (RMSNorm -> attention with rotary
embeddings and an additive causal mask -> residual; RMSNorm -> SwiGLU MLP ->
residual) -> RMSNorm -> output (untied, no bias) -> logits float[B, T, V].

Three tensors are registered buffers, which ONNX exports as plain initializers
like the weights: the rotary tables `rope.cos` and `rope.sin` ([S, head_dim])
and the additive causal mask `mask` ([S, S], 0 on and below the diagonal,
-1e9 above). common.export lists them under the model's metadata_props key
`cleave.frozen`, so that Cleave reads them but never trains them.

Run with Debian's interpreter (it has PyTorch 1.13 and ONNX 1.12):

    /usr/bin/python3 models/gen_llama.py -o models/onnx/llama_rope.onnx
"""

import argparse
import dataclasses
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    vocab: int = 64
    block_size: int = 16  # S: rows of the rotary tables and of the mask
    layers: int = 2
    heads: int = 4
    embd: int = 32
    hidden: int = 64      # SwiGLU width
    norm_eps: float = 1e-5
    rope_base: float = 10000.0


TOY = LlamaConfig()


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Rotary(nn.Module):
    """cos/sin tables of rotary position embeddings (rotate-half layout)."""

    def __init__(self, head_dim, block_size, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        angles = torch.outer(torch.arange(block_size).float(), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        self.register_buffer("cos", angles.cos())
        self.register_buffer("sin", angles.sin())


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rotary(x, cos, sin):
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.heads
        self.head_dim = config.embd // config.heads
        self.wq = nn.Linear(config.embd, config.embd, bias=False)
        self.wk = nn.Linear(config.embd, config.embd, bias=False)
        self.wv = nn.Linear(config.embd, config.embd, bias=False)
        self.wo = nn.Linear(config.embd, config.embd, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        shape = (B, T, self.heads, self.head_dim)
        q = self.wq(x).view(shape).transpose(1, 2)
        k = self.wk(x).view(shape).transpose(1, 2)
        v = self.wv(x).view(shape).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        scores = q @ k.transpose(-2, -1) * (1.0 / self.head_dim ** 0.5) + mask
        y = F.softmax(scores, dim=-1) @ v
        return self.wo(y.transpose(1, 2).reshape(B, T, C))


class FeedForward(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.w1 = nn.Linear(config.embd, config.hidden, bias=False)
        self.w2 = nn.Linear(config.hidden, config.embd, bias=False)
        self.w3 = nn.Linear(config.embd, config.hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention_norm = RMSNorm(config.embd, config.norm_eps)
        self.attention = Attention(config)
        self.ffn_norm = RMSNorm(config.embd, config.norm_eps)
        self.feed_forward = FeedForward(config)

    def forward(self, x, cos, sin, mask):
        x = x + self.attention(self.attention_norm(x), cos, sin, mask)
        return x + self.feed_forward(self.ffn_norm(x))


class Llama(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab, config.embd)
        self.rope = Rotary(config.embd // config.heads, config.block_size, config.rope_base)
        mask = torch.full((config.block_size, config.block_size), -1e9).triu(1)
        self.register_buffer("mask", mask)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = RMSNorm(config.embd, config.norm_eps)
        self.output = nn.Linear(config.embd, config.vocab, bias=False)
        # RMSNorm weights away from 1 so that every parameter matters.
        for name, parameter in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.normal_(parameter, mean=1.0, std=0.1)

    def forward(self, idx):
        T = idx.shape[1]
        cos, sin = self.rope.cos[:T], self.rope.sin[:T]
        mask = self.mask[:T, :T]
        x = self.tok_embeddings(idx)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.output(self.norm(x))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seq", type=int, default=TOY.block_size,
                        help=f"tokens per sample T (default {TOY.block_size}, at most the block size)")
    common.add_common_args(parser, default_batch=2)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = Llama(TOY)
    idx = torch.randint(0, TOY.vocab, (args.batch, args.seq))
    common.export(model, [idx], args.output, input_names=["idx"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
