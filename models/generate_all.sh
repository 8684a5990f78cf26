#!/usr/bin/env bash
# Regenerate the small ONNX models committed under models/onnx/.
#
# Needs Debian's /usr/bin/python3 with python3-torch (PyTorch 1.13) and
# python3-onnx (ONNX 1.12); the exports are deterministic for a given seed and
# PyTorch version.  Usage: models/generate_all.sh [OUT_DIR]   (default models/onnx)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/onnx}"
py=/usr/bin/python3
max_bytes=$((2 * 1024 * 1024))

mkdir -p "$out"
# Stale files would otherwise survive (save_as_external_data appends to a data file).
rm -f "$out"/*.onnx "$out"/*.weights

mlp() { "$py" "$here/gen_mlp.py" "$@"; }
gpt() { "$py" "$here/gen_gpt.py" "$@"; }
cnn() { "$py" "$here/gen_cnn.py" "$@"; }
llama() { "$py" "$here/gen_llama.py" "$@"; }

mlp --mode train --opset 17 -o "$out/mlp.onnx"
mlp --mode eval --opset 13 -o "$out/mlp_eval_op13.onnx"

toy=(--preset toy --batch 2 --seq 16)
gpt "${toy[@]}" --mode train --opset 17 -o "$out/gpt_toy.onnx"
gpt "${toy[@]}" --mode train --opset 13 -o "$out/gpt_toy_op13.onnx"
gpt "${toy[@]}" --mode eval --opset 14 -o "$out/gpt_toy_op14_eval.onnx"
gpt "${toy[@]}" --mode train --opset 15 -o "$out/gpt_toy_op15.onnx"
gpt "${toy[@]}" --mode train --opset 16 -o "$out/gpt_toy_op16.onnx"
gpt "${toy[@]}" --mode train --opset 17 --external-data -o "$out/gpt_toy_external.onnx"
gpt "${toy[@]}" --mode train --opset 17 --dynamic-batch -o "$out/gpt_toy_dynamic.onnx"

# The small preset's embd 128 (834k params, 3.4 MB) is too big to commit; embd 64 keeps
# its 4 layers x 4 heads at 221k params (under 1 MB).
gpt --preset small --embd 64 --batch 4 --seq 64 --mode train --opset 17 -o "$out/gpt_small.onnx"

# The same GPT as onnx.helper users write it ([in, out] weights, Split, constant
# Reshapes, additive mask); 4 heads and batch 8 for the 4-rank tests.
"$py" "$here/gen_gpt_onnx_helper.py" --preset toy --heads 4 --batch 8 -o "$out/gpt_helper_toy.onnx"

cnn --mode train --opset 17 -o "$out/cnn.onnx"
cnn --mode eval --opset 13 -o "$out/cnn_eval_op13.onnx"

# A ConvNeXt stage at 2x2 maps (plan invariance: the auto plan splits its
# downsampling convolution over input channels; issue 9).
"$py" "$here/gen_convnext_block.py" --in-channels 32 --channels 64 --size 4 --mode train --opset 17 \
    -o "$out/convnext_block.onnx"
# A ResNet stem and stage (plan invariance: resnet18's auto plan, issue 9).
"$py" "$here/gen_resnet_block.py" --mode train --opset 17 -o "$out/resnet_block.onnx"
# Registered buffers (rotary tables, additive mask) listed as frozen in metadata_props.
llama --mode train --opset 17 -o "$out/llama_rope.onnx"

# Shapes only: weights are declared as external data that is never written.
gpt --preset gpt-39b --opset 17 -o "$out/gpt-39b.onnx"
gpt --preset gpt2-124m --opset 17 -o "$out/gpt2-124m_shapes.onnx"

status=0
for f in "$out"/*.onnx "$out"/*.weights; do
    size=$(stat -c %s "$f")
    if (( size >= max_bytes )); then
        echo "error: $f is $size bytes, the limit for committed files is $max_bytes" >&2
        status=1
    fi
done
[[ -f "$out/gpt_toy_external.weights" ]] || { echo "error: gpt_toy_external.weights missing" >&2; status=1; }
for f in gpt-39b gpt2-124m_shapes; do
    [[ ! -e "$out/$f.weights" ]] || { echo "error: $f.weights must not exist" >&2; status=1; }
done
exit $status
