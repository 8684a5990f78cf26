#!/usr/bin/python3
"""Writes the binary ONNX inputs of the lit tests that textual ONNX cannot
express: ONNX 1.12's parser takes only [A-Za-z0-9_] names (no `onnx::...`
initializers) and cannot name nodes. Run with Debian's interpreter:
    /usr/bin/python3 tests/lit/Inputs/gen_inputs.py
"""
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def exporter_scalar():
    # torch.onnx (constant folding on) turns Python scalars into one-element
    # initializers named onnx::<Op>_<n>, like GPT's 1/sqrt(head_dim).
    scalar = helper.make_tensor("onnx::Mul_3", TensorProto.FLOAT, [], [0.25])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "onnx::Mul_3"], ["t"], name="/Mul"),
         helper.make_node("Mul", ["t", "scale"], ["y"], name="/Mul_1")],
        "torch_jit",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [scalar, scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="gen_inputs.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "exporter-scalar.onnx"))


def unsupported_op():
    # An op without an import rule (NonZero's result shape depends on the
    # data, so a static-shape compiler cannot have one), in a node with an
    # exporter-style name.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["h"], name="/blocks/act"),
         helper.make_node("NonZero", ["h"], ["y"], name="/head/NonZero")],
        "torch_jit",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [2, "nonzeros"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="gen_inputs.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "unsupported-op.onnx"))


if __name__ == "__main__":
    exporter_scalar()
    unsupported_op()
