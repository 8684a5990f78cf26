#!/usr/bin/python3
"""Generate a multi-layer perceptron (nn.Linear + ReLU stack) as ONNX.

Graph: x float[B, in] -> (Linear -> ReLU) per hidden size -> Linear -> logits float[B, classes].

Run with Debian's interpreter (it has PyTorch 1.13 and ONNX 1.12):

    /usr/bin/python3 models/gen_mlp.py -o models/onnx/mlp.onnx
    /usr/bin/python3 models/gen_mlp.py --mode eval --opset 13 -o mlp_eval_op13.onnx
"""

import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def build_model(in_features, hidden, classes):
    layers = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def parse_sizes(text):
    return [int(s) for s in text.split(",") if s.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-features", type=int, default=32)
    parser.add_argument("--hidden", type=parse_sizes, default=[64, 64],
                        help="comma-separated hidden widths (default 64,64)")
    parser.add_argument("--classes", type=int, default=10)
    common.add_common_args(parser, default_batch=8)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = build_model(args.in_features, args.hidden, args.classes)
    x = torch.randn(args.batch, args.in_features)
    common.export(model, [x], args.output, input_names=["x"], output_names=["logits"],
                  opset=args.opset, mode=args.mode, dynamic_batch=args.dynamic_batch)
    common.check_and_summarize(args.output)


if __name__ == "__main__":
    main()
