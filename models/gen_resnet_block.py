#!/usr/bin/python3
"""Generate a small ResNet stem and stage (torchvision's layers) as ONNX.

Graph: x float[B,3,S,S]
  -> stem: Conv2d(3, C, 7, stride 2, padding 3) -> BatchNorm2d -> ReLU
     -> MaxPool2d(3, stride 2, padding 1)
  -> BasicBlock(C, C)
  -> BasicBlock(C, 2C, stride 2) with its 1x1 stride-2 downsampling conv + BN
  -> AdaptiveAvgPool2d(1) -> Flatten -> Linear(2C, classes)

These are the layers of torchvision's resnet18 (torchvision.models.resnet's
own BasicBlock), at a width small enough for a fast test. BatchNorm weights
and biases are drawn around 1 and 0 rather than left at torchvision's 1 and
0, so that a wrong gradient through them shows from the first step. At the
default size the sharding search on 4 CPU devices picks resnet18's plan
(every convolution and BatchNorm split over channels, the downsampling
convolution run on a quarter of the batch between two all_to_alls), which
tests/sharding/plan_invariance.py asserts.

    /usr/bin/python3 models/gen_resnet_block.py -o models/onnx/resnet_block.onnx
"""

import argparse
import os
import sys

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def build_model(channels, classes, parts):
    layers = []
    if "stem" in parts:
        layers += [nn.Conv2d(3, channels, 7, stride=2, padding=3, bias=False),
                   nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
    if "pool" in parts:
        layers.append(nn.MaxPool2d(3, stride=2, padding=1))
    width = channels
    if "block" in parts:
        layers.append(BasicBlock(channels, channels))
    if "down" in parts:
        downsample = nn.Sequential(nn.Conv2d(channels, 2 * channels, 1, stride=2, bias=False),
                                   nn.BatchNorm2d(2 * channels))
        layers.append(BasicBlock(channels, 2 * channels, stride=2, downsample=downsample))
        width = 2 * channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(width, classes)]
    model = nn.Sequential(*layers)
    return common.randomize_norm_affine(model, nn.BatchNorm2d)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--size", type=int, default=32, help="spatial size S of the input")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--parts", default="stem,pool,block,down",
                        help="comma-separated subset of stem,pool,block,down")
    common.add_common_args(parser, default_batch=4)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = build_model(args.channels, args.classes, args.parts.split(","))
    in_channels = 3 if "stem" in args.parts else args.channels
    x = torch.randn(args.batch, in_channels, args.size, args.size)
    common.export(model, [x], args.output, input_names=["x"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
