"""Helpers shared by the Cleave model generators (gen_mlp.py, gen_gpt.py, gen_cnn.py).

Not meant to be run directly. The generators import it from their own directory,
so run them as scripts (``/usr/bin/python3 models/gen_gpt.py ...``).
"""

import argparse
import collections
import os
import shutil
import tempfile
import warnings

import onnx

MIN_OPSET = 13
MAX_OPSET = 17

# metadata_props key of the initializers training must not update
# (docs/formats.md): ONNX exports registered buffers as plain initializers.
FROZEN_KEY = "cleave.frozen"


def add_common_args(parser: argparse.ArgumentParser, default_batch) -> None:
    """Options every generator understands.

    ``default_batch`` may be None when the generator derives it (e.g. from a preset).
    """
    parser.add_argument("-o", "--output", required=True, help="output .onnx path")
    parser.add_argument("--opset", type=int, default=17,
                        choices=range(MIN_OPSET, MAX_OPSET + 1), metavar=f"{{{MIN_OPSET}..{MAX_OPSET}}}",
                        help="ONNX opset to export with (default 17)")
    parser.add_argument("--mode", choices=("train", "eval"), default="train",
                        help="train: TrainingMode.TRAINING export without constant folding "
                             "(keeps parameter names, tied weights, BatchNormalization, Dropout); "
                             "eval: default inference export of model.eval()")
    parser.add_argument("--batch", type=int, default=default_batch,
                        help="static batch size" + (f" (default {default_batch})" if default_batch else ""))
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the weights")
    parser.add_argument("--dynamic-batch", action="store_true",
                        help="mark dim 0 of inputs/outputs as the symbolic dimension 'batch'")


def export(model, example_inputs, path, *, input_names, output_names, opset, mode,
           dynamic_batch):
    """torch.onnx.export with the settings the generators agree on.

    Shapes are static unless ``dynamic_batch`` is set, because the compiler
    wants fully static graphs and only accepts a symbolic batch together with an
    explicit ``--input-shape``.
    """
    import torch

    if mode == "train":
        model.train()
        # An eval export folds BatchNorm into Conv and drops Dropout; constant
        # folding would also replace each Linear weight by a transposed copy
        # named onnx::MatMul_NNN, which loses the parameter names and the
        # weight tying a training compiler needs.
        kwargs = dict(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    else:
        model.eval()
        kwargs = {}

    # BatchNorm's num_batches_tracked counter only matters for momentum=None;
    # the exporter drops its in-place update and says so once per layer.
    warnings.filterwarnings("ignore", message="ONNX Preprocess - Removing mutation from node aten::add_")

    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {name: {0: "batch"} for name in list(input_names) + list(output_names)}

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    torch.onnx.export(model, tuple(example_inputs), path,
                      input_names=list(input_names), output_names=list(output_names),
                      opset_version=opset, dynamic_axes=dynamic_axes, **kwargs)
    mark_buffers_frozen(model, path)


def randomize_norm_affine(model, norm_type):
    """Draw the scale and shift of every ``norm_type`` layer from N(1, 0.1) and N(0, 0.1).

    Fresh ones (1 and 0) make the layer's affine part the identity, which
    would hide a wrong normalisation lowering or gradient. Returns ``model``.
    """
    from torch import nn

    for module in model.modules():
        if isinstance(module, norm_type):
            nn.init.normal_(module.weight, mean=1.0, std=0.1)
            nn.init.normal_(module.bias, mean=0.0, std=0.1)
    return model


def load_onnx_weights(model, path):
    """Set every entry of ``model``'s state dict that the ONNX file at ``path``
    has an initializer of the same name for; the others stay. Returns ``model``."""
    import torch
    from onnx import numpy_helper

    initial = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    state = model.state_dict()
    for name in state:
        if name in initial:
            state[name] = torch.tensor(initial[name])
    model.load_state_dict(state)
    return model


def mark_buffers_frozen(model, path):
    """List the model's registered buffers that became initializers under FROZEN_KEY.

    Without the list a training compiler cannot tell a rotary table or a mask
    from a weight. BatchNorm running statistics are buffers too; Cleave keeps
    them updated by the forward. Nothing is written for a model without buffers.
    """
    exported = onnx.load(path)
    initializers = {t.name for t in exported.graph.initializer}
    frozen = [name for name, _ in model.named_buffers() if name in initializers]
    if not frozen:
        return
    entry = exported.metadata_props.add()
    entry.key, entry.value = FROZEN_KEY, ",".join(frozen)
    onnx.save(exported, path)


def resave_with_external_data(path: str) -> str:
    """Move every initializer of ``path`` into one ``<stem>.weights`` file next to it."""
    model = onnx.load(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    location = stem + ".weights"
    data_path = os.path.join(os.path.dirname(os.path.abspath(path)), location)
    # save_model appends to an existing data file, so a rerun must start fresh.
    if os.path.exists(data_path):
        os.remove(data_path)
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return data_path


def input_specs(path: str) -> list:
    """(name, shape, ONNX element type) of each graph input that is not an
    initializer: the data a training run feeds the model."""
    graph = onnx.load(path, load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    specs = []
    for value in graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        specs.append((value.name, [d.dim_value for d in tensor.shape.dim], tensor.elem_type))
    return specs


def param_count(model: onnx.ModelProto) -> int:
    total = 0
    for init in model.graph.initializer:
        n = 1
        for d in init.dims:
            n *= d
        total += n
    return total


def op_histogram(model: onnx.ModelProto) -> str:
    counts = collections.Counter(node.op_type for node in model.graph.node)
    return ",".join(f"{op}:{n}" for op, n in sorted(counts.items()))


def opset_of(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    raise ValueError("model has no default-domain opset import")


def external_locations(model: onnx.ModelProto) -> set:
    return {entry.value for init in model.graph.initializer
            if init.data_location == onnx.TensorProto.EXTERNAL
            for entry in init.external_data if entry.key == "location"}


def check_without_data(path: str, model: onnx.ModelProto) -> None:
    """Check a model whose external data file is deliberately absent.

    The ONNX 1.12 checker insists that external data files exist, even for an
    in-memory proto (it then resolves them against the working directory),
    but does not read them.  So the model is checked as a copy in a scratch
    directory next to empty placeholder files.
    """
    with tempfile.TemporaryDirectory() as scratch:
        for location in external_locations(model):
            if os.path.dirname(location):
                raise ValueError(f"external data location {location!r} is not a bare file name")
            open(os.path.join(scratch, location), "wb").close()
        copy = os.path.join(scratch, os.path.basename(path))
        shutil.copyfile(path, copy)
        onnx.checker.check_model(copy, full_check=True)

    # data_prop pushes the Constant/Concat shape chains through Reshape, so
    # every intermediate shape is inferred and must agree with the outputs.
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True,
                                                 data_prop=True)
    for declared, output in zip(model.graph.output, inferred.graph.output):
        if declared.type != output.type:
            raise ValueError(f"inferred type of {declared.name} differs from the declared one")


def check_and_summarize(path: str, *, has_data_file: bool = True) -> onnx.ModelProto:
    """Validate ``path`` with the ONNX checker and print a one-line summary.

    ``has_data_file=False`` is for shapes-only models whose external weight
    file deliberately does not exist (see check_without_data).
    """
    model = onnx.load(path, load_external_data=False)
    if has_data_file:
        # Path form so that models with external data (and >2 GB) are handled.
        onnx.checker.check_model(path, full_check=True)
    else:
        check_without_data(path, model)

    size = os.path.getsize(path)
    print(f"{path}: opset={opset_of(model)} nodes={len(model.graph.node)} "
          f"params={param_count(model):,} file_bytes={size:,} ops=[{op_histogram(model)}]")
    return model
