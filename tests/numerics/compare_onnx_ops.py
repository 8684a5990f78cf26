#!/usr/bin/python3
"""Train PyTorch models exported with their loss inside; require PyTorch's numbers.

The models use the ONNX ops whose import decomposes into other cleave ops
(compiler/Importer/rules/Indexing.cpp, Loss.cpp, Resize.cpp,
Convolution.cpp, Normalization.cpp): ConvTranspose, InstanceNormalization,
Resize (linear, nearest), 1-D and 3-D Conv and pooling, GatherElements,
ScatterElements, and the loss ops SoftmaxCrossEntropyLoss (labels of -100
ignored, as PyTorch does by default) and NegativeLogLikelihoodLoss (class
weights, ignore_index). Each model is exported by torch.onnx with the loss
as its only output, compiled with `cleavec --loss model`, and trained with
SGD on both sides from the same initial weights and batches; per-step losses
and every final parameter must agree to --tolerance (relative). With
--devices N the Cleave side runs on N MPI ranks under the auto plan.

    /usr/bin/python3 tests/numerics/compare_onnx_ops.py --model vision \\
        --cleavec build/bin/cleavec --workdir /tmp/ops
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from numerics_common import compare_losses, relative_error, run_training, save_data


class Vision(nn.Module):
    """Conv -> InstanceNorm -> ConvTranspose (groups, output_padding) ->
    bilinear and nearest Resize -> dilated MaxPool -> Linear -> cross-entropy."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.InstanceNorm2d(4, affine=True)
        self.up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.head = nn.Linear(6 * 4 * 3, 5)

    def forward(self, x, y):
        h = torch.relu(self.norm(self.conv(x)))  # [B, 4, 6, 6]
        h = self.up(h)  # [B, 6, 12, 12]
        h = F.interpolate(h, scale_factor=0.75, mode="bilinear", align_corners=False)  # 9 x 9
        h = F.interpolate(h, size=(6, 6), mode="nearest")
        h = F.max_pool2d(h, 2, dilation=(2, 1), padding=(1, 0), ceil_mode=True)  # [B, 6, 4, 3]
        return F.cross_entropy(self.head(h.flatten(1)), y)


class Volume(nn.Module):
    """3-D Conv and ConvTranspose (depth stride, groups) and pooling, 1-D Conv, linear Resize
    and pooling, GatherElements, ScatterElements (add) and a weighted NLL
    with ignore_index."""

    def __init__(self):
        super().__init__()
        self.conv3 = nn.Conv3d(2, 4, 3, stride=(2, 1, 1), padding=1, groups=2)
        self.up3 = nn.ConvTranspose3d(4, 4, (3, 2, 2), stride=(2, 1, 1), padding=(1, 0, 0),
                                      output_padding=(1, 0, 0), groups=2)
        self.conv1 = nn.Conv1d(4, 4, 3, padding=1)
        self.head = nn.Linear(52, 5)
        self.extra = nn.Linear(52, 2)

    def forward(self, x, y):
        h = torch.tanh(self.conv3(x))  # [B, 4, 3, 6, 6]
        h = self.up3(h)  # [B, 4, 6, 7, 7]
        h = F.max_pool3d(h, 2, ceil_mode=True)  # [B, 4, 3, 4, 4]
        h = F.avg_pool3d(h, (1, 2, 2), stride=1, count_include_pad=False)  # [B, 4, 3, 3, 3]
        h = self.conv1(h.flatten(2))  # [B, 4, 27]
        h = F.interpolate(h, scale_factor=2, mode="linear", align_corners=True)  # [B, 4, 54]
        h = F.max_pool1d(h, 4)  # [B, 4, 13]
        h = F.avg_pool1d(h, 3, stride=1, padding=1, count_include_pad=False).flatten(1)
        logits = self.head(h)
        # Two more logits added into columns 1 and 3, one of them twice.
        index = torch.tensor([[1, 3]] * h.shape[0])
        logits = logits.scatter_add(1, index, self.extra(h))
        # log(softmax), not log_softmax: the exporter would fuse the latter
        # with nll_loss into SoftmaxCrossEntropyLoss.
        logp = torch.log(F.softmax(logits, 1))
        weight = torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0])
        picked = torch.gather(logp, 1, torch.tensor([[0, 4, 4]] * h.shape[0]))
        return F.nll_loss(logp, y, weight=weight, ignore_index=1) - 0.1 * picked.mean()


MODELS = {
    # name: (module factory, input shape, opset)
    "vision": (Vision, [4, 3, 6, 6], 13),
    "volume": (Volume, [3, 2, 5, 6, 6], 16),
}


def export(name, path, model, x, y):
    torch.onnx.export(model, (x, y), path, input_names=["x", "y"], output_names=["loss"],
                      opset_version=MODELS[name][2], do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--devices", type=int, default=1,
                        help="train on this many MPI ranks under the auto plan")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    torch.manual_seed(0)
    torch.set_num_threads(1)
    factory, shape, _ = MODELS[args.model]
    model = factory()
    with torch.no_grad():  # no trivial affine parameters (InstanceNorm's are 1 and 0)
        for param in model.parameters():
            param.add_(0.1 * torch.randn_like(param))
    rng = np.random.default_rng(1234)
    batches, batch = 3, shape[0]
    data = {"x": rng.standard_normal([batch * batches] + shape[1:]).astype(np.float32),
            "y": rng.integers(0, 5, size=[batch * batches], dtype=np.int64)}
    if args.model == "vision":
        data["y"][::5] = -100  # PyTorch's default ignore_index
    else:
        # Class 1 is ignored: one label of it per batch, never a whole batch
        # (all ignored is 0 / 0 on both sides).
        data["y"] = (np.arange(batch * batches, dtype=np.int64) * 3) % 5
    model_path = os.path.join(args.workdir, args.model + ".onnx")
    export(args.model, model_path, model, torch.tensor(data["x"][:batch]),
           torch.tensor(data["y"][:batch]))

    data_flags = save_data(data, args.workdir)
    exe = os.path.join(args.workdir, "train")
    plan = ["--devices", str(args.devices)] if args.devices > 1 else []
    subprocess.run([args.cleavec, model_path, "--target", "cpu", "--loss", "model",
                    "--optimizer", "sgd", "--lr", "0.1", *plan, "-o", exe], check=True)
    launch = []
    if args.devices > 1:
        launch = ["mpirun", "--oversubscribe", "-np", str(args.devices)]
        os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    ours, cleave_weights = run_training(exe, data_flags, args.steps, args.workdir, launch)

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for step in range(args.steps):
        start = (step * batch) % (batch * batches)
        loss = model(torch.tensor(data["x"][start:start + batch]),
                     torch.tensor(data["y"][start:start + batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}

    failures = 0
    print(f"{args.model}: {args.steps} SGD steps, loss inside the model, {args.devices} rank(s)")
    failures += compare_losses(losses, ours, args.steps, args.tolerance)
    compared, worst = 0, ("", 0.0)
    for name, value in weights.items():
        if name not in cleave_weights:
            print(f" weight {name}: missing from Cleave's trained model  <-- missing")
            failures += 1
            continue
        compared += 1
        error = relative_error(cleave_weights[name], value)
        worst = max(worst, (name, error), key=lambda item: item[1])
        if error > args.tolerance:
            print(f" weight {name}: relative L2 error {error:.2e}  <-- too far")
            failures += 1
    print(f" final weights: {compared} tensors, worst relative L2 error {worst[1]:.2e} ({worst[0]})")
    print(f"numerics: {args.steps + compared - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
