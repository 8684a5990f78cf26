#!/usr/bin/python3
"""Generate a small ConvNeXt stage (torchvision's layers) as ONNX.

Graph: x float[B,Cin,S,S]
  -> downsampling: LayerNorm2d(Cin) -> Conv2d(Cin, C, 2, stride 2)
  -> depth x CNBlock(C): depthwise Conv2d(7x7, groups=C) -> permute to NHWC
     -> LayerNorm(C) -> Linear(C,4C) -> GELU -> Linear(4C,C) -> permute back
     -> layer_scale [C,1,1] * block + residual
  -> AdaptiveAvgPool2d(1) -> LayerNorm2d(C) -> Flatten -> Linear(C, classes)

These are the layers of torchvision's convnext_tiny at a stage whose
spatial size is smaller than the device count (convnext_tiny on 64x64
inputs has 4x4 and 2x2 maps in stages 5 and 7). The layer scale is drawn
around 0.5 rather than torchvision's 1e-6, and biases keep PyTorch's
default (non-zero) initialisation rather than torchvision's zeros: either
would hide a wrong block or bias from the first steps. The sharding search
splits the downsampling convolution over its input channels on 4 devices,
which is how issue 9's bias bug showed (docs/sharding.md).

    /usr/bin/python3 models/gen_convnext_block.py -o models/onnx/convnext_block.onnx
"""

import argparse
import os
import sys

import torch
import torch.nn as nn
from torchvision.models.convnext import CNBlock, LayerNorm2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def build_model(in_channels, channels, depth, classes):
    blocks = [CNBlock(channels, layer_scale=1.0, stochastic_depth_prob=0.0) for _ in range(depth)]
    model = nn.Sequential(
        LayerNorm2d(in_channels, eps=1e-6),
        nn.Conv2d(in_channels, channels, kernel_size=2, stride=2),
        *blocks,
        nn.AdaptiveAvgPool2d(1),
        LayerNorm2d(channels, eps=1e-6),
        nn.Flatten(1),
        nn.Linear(channels, classes),
    )
    for block in blocks:
        nn.init.uniform_(block.layer_scale, 0.25, 0.75)
    return common.randomize_norm_affine(model, nn.LayerNorm)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-channels", type=int, default=16)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--size", type=int, default=4, help="spatial size S of the input")
    parser.add_argument("--depth", type=int, default=1, help="number of blocks")
    parser.add_argument("--classes", type=int, default=10)
    common.add_common_args(parser, default_batch=4)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = build_model(args.in_channels, args.channels, args.depth, args.classes)
    x = torch.randn(args.batch, args.in_channels, args.size, args.size)
    common.export(model, [x], args.output, input_names=["x"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
