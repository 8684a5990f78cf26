#!/usr/bin/python3
"""Generate a small CNN classifier for 32x32 RGB images as ONNX.

Graph: x float[B,3,32,32]
  -> Conv2d(3,8,3,pad 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
  -> Conv2d(8,16,3,pad 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
  -> Flatten -> Linear(16*8*8, 10) -> logits float[B,10]

Run with Debian's interpreter (it has PyTorch 1.13 and ONNX 1.12):

    /usr/bin/python3 models/gen_cnn.py -o models/onnx/cnn.onnx
    /usr/bin/python3 models/gen_cnn.py --mode eval --opset 13 -o cnn_eval_op13.onnx

In eval mode the exporter folds each BatchNorm into the preceding Conv; use
train mode to keep BatchNormalization nodes (with running-stat updates).
"""

import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def build_model(classes):
    # No conv bias before BatchNorm (as in ResNet): BatchNorm subtracts any
    # per-channel shift, so such a bias gets an exactly-zero gradient that
    # adaptive optimizers turn into steps driven by rounding noise.
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 8 * 8, classes),
    )
    # Fresh BatchNorm layers are the identity (weight 1, bias 0, mean 0, var 1),
    # which would hide a wrong BatchNormalization lowering and make the
    # eval-mode Conv+BN folding a no-op; randomise them.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, mean=1.0, std=0.1)
            nn.init.normal_(module.bias, mean=0.0, std=0.1)
            module.running_mean.normal_(mean=0.0, std=0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, default=10)
    common.add_common_args(parser, default_batch=8)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = build_model(args.classes)
    x = torch.randn(args.batch, 3, 32, 32)
    common.export(model, [x], args.output, input_names=["x"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
