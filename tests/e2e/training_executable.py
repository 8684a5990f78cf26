#!/usr/bin/python3
"""End-to-end checks of a generated training executable (the toy GPT).

Each check runs the real program cleavec produced and looks at its exit
status, its message and the files it leaves:
  - bad input: no --data, a wrong shape, a wrong dtype, an unknown input
    name, a corrupt checkpoint, a checkpoint of another model -> one clear
    message, non-zero exit, nothing overwritten;
  - resume: 10 steps + resume to 20 gives the losses of 20 straight steps;
  - kill: a run killed at random moments while checkpointing every step
    always leaves a loadable latest checkpoint;
  - export: --save-onnx writes a model cleavec imports again, with trained
    (changed) weights.

    /usr/bin/python3 tests/e2e/training_executable.py --cleavec build/bin/cleavec --workdir /tmp/e2e
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models", "onnx")

passed = 0
failed = 0


def check(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}\n{detail}")


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def losses(metrics_path):
    with open(metrics_path) as f:
        return {json.loads(line)["step"]: json.loads(line)["loss"] for line in f}


def snapshot(directory):
    return {name: open(os.path.join(directory, name), "rb").read()
            for name in sorted(os.listdir(directory))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    exe = os.path.join(work, "train_gpt")
    built = run([args.cleavec, os.path.join(MODELS, "gpt_toy.onnx"), "--target", "cpu",
                 "--loss", "cross_entropy", "--labels", "y", "--optimizer", "adamw", "-o", exe])
    check(built.returncode == 0, "cleavec builds the toy GPT", built.stderr)
    other = os.path.join(work, "train_mlp")
    run([args.cleavec, os.path.join(MODELS, "mlp.onnx"), "--target", "cpu", "--loss",
         "cross_entropy", "--labels", "y", "-o", other])

    rng = np.random.default_rng(7)
    idx = rng.integers(0, 64, size=(8, 16), dtype=np.int64)
    y = rng.integers(0, 64, size=(8, 16), dtype=np.int64)
    paths = {name: os.path.join(work, name + ".npy") for name in ("idx", "y")}
    np.save(paths["idx"], idx)
    np.save(paths["y"], y)
    data = f"idx={paths['idx']},y={paths['y']}"

    def expect_error(argv, pattern, what):
        result = run([exe, *argv, "--log-every", "0"])
        output = result.stdout + result.stderr
        check(result.returncode != 0 and pattern in output and "Traceback" not in output
              and "core dumped" not in output,
              what, f"exit {result.returncode}, output:\n{output}")

    # Bad input.
    expect_error(["--steps", "2"], "idx", "no --data names the missing input")
    np.save(os.path.join(work, "wrong_shape.npy"), idx[:, :8])
    expect_error(["--steps", "2", "--data", f"idx={work}/wrong_shape.npy,y={paths['y']}"],
                 "wrong_shape.npy", "a wrongly shaped .npy is refused by name")
    np.save(os.path.join(work, "float_labels.npy"), y.astype(np.float32))
    expect_error(["--steps", "2", "--data", f"idx={paths['idx']},y={work}/float_labels.npy"],
                 "float_labels.npy", "float labels for int64 input are refused")
    expect_error(["--steps", "2", "--data", f"{data},z={paths['y']}"], "'z'",
                 "an unknown input name is refused")
    expect_error(["--steps", "2", "--data", f"idx={work}/missing.npy,y={paths['y']}"],
                 "missing.npy", "a missing data file is named")
    bad_tokens = idx.copy()
    bad_tokens[0, 0] = 1000
    np.save(os.path.join(work, "bad_tokens.npy"), bad_tokens)
    expect_error(["--steps", "2", "--data", f"idx={work}/bad_tokens.npy,y={paths['y']}"],
                 "out of range", "a token id beyond the vocabulary stops the run")

    # A checkpoint directory with a good checkpoint, then damaged copies.
    good = os.path.join(work, "good")
    result = run([exe, "--steps", "3", "--data", data, "--checkpoint-dir", good, "--log-every", "0"])
    check(result.returncode == 0 and os.listdir(good), "a run writes checkpoints", result.stderr)
    corrupt = os.path.join(work, "corrupt")
    shutil.copytree(good, corrupt)
    for name in os.listdir(corrupt):
        if name.endswith(".safetensors"):
            with open(os.path.join(corrupt, name), "r+b") as f:
                f.truncate(100)
    before = snapshot(corrupt)
    expect_error(["--steps", "5", "--data", data, "--checkpoint-dir", corrupt, "--resume"],
                 "not a valid safetensors file", "a truncated checkpoint is refused")
    check(snapshot(corrupt) == before, "nothing is overwritten after a refused resume")
    # One byte of the newest checkpoint's last tensor flipped: only its
    # checksum (the safetensors metadata) can tell.
    flipped = os.path.join(work, "flipped")
    shutil.copytree(good, flipped)
    with open(os.path.join(flipped, "latest")) as f:
        newest = os.path.join(flipped, f.read().strip())
    with open(newest, "r+b") as f:
        f.seek(-3, os.SEEK_END)
        byte = f.read(1)[0]
        f.seek(-3, os.SEEK_END)
        f.write(bytes([byte ^ 0x08]))
    expect_error(["--steps", "5", "--data", data, "--checkpoint-dir", flipped, "--resume"],
                 "is damaged: tensor '", "a flipped byte of tensor data is refused, naming the tensor")
    mlp_dir = os.path.join(work, "mlp_ckpt")
    np.save(os.path.join(work, "x.npy"), rng.standard_normal((8, 32)).astype(np.float32))
    np.save(os.path.join(work, "ylab.npy"), rng.integers(0, 10, size=(8,), dtype=np.int64))
    run([other, "--steps", "2", "--data", f"x={work}/x.npy,y={work}/ylab.npy",
         "--checkpoint-dir", mlp_dir, "--log-every", "0"])
    before = snapshot(mlp_dir)
    expect_error(["--steps", "5", "--data", data, "--checkpoint-dir", mlp_dir, "--resume"],
                 "transformer", "another model's checkpoint is refused, naming a tensor")
    check(snapshot(mlp_dir) == before, "the other model's checkpoints are untouched")

    # Resume gives the uninterrupted losses.
    straight = os.path.join(work, "straight.jsonl")
    run([exe, "--steps", "20", "--data", data, "--shuffle", "--metrics", straight, "--log-every", "0"])
    split_dir = os.path.join(work, "split")
    first = os.path.join(work, "first.jsonl")
    second = os.path.join(work, "second.jsonl")
    run([exe, "--steps", "10", "--data", data, "--shuffle", "--metrics", first,
         "--checkpoint-dir", split_dir, "--log-every", "0"])
    resumed = run([exe, "--steps", "20", "--data", data, "--shuffle", "--metrics", second,
                   "--checkpoint-dir", split_dir, "--resume", "--log-every", "0"])
    a, b = losses(straight), losses(second)
    check(resumed.returncode == 0 and all(b.get(s) == a[s] for s in range(11, 21)),
          "10 steps + resume to 20 repeat the uninterrupted losses exactly",
          f"{resumed.stderr}\nstraight {a}\nresumed {b}")

    # Killed at random moments while checkpointing every step.
    kill_dir = os.path.join(work, "killed")
    random.seed(3)
    for attempt in range(5):
        process = subprocess.Popen([exe, "--steps", "100000", "--data", data, "--checkpoint-dir",
                                    kill_dir, "--checkpoint-every", "1", "--log-every", "0"]
                                   + (["--resume"] if os.path.exists(os.path.join(kill_dir, "latest")) else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3 + random.random() * 0.5)
        process.send_signal(signal.SIGKILL)
        process.wait()
    latest = open(os.path.join(kill_dir, "latest")).read().strip()
    latest_step = int(latest.split("-")[1].split(".")[0])
    after_kill = run([exe, "--steps", str(latest_step + 1), "--data", data, "--checkpoint-dir",
                      kill_dir, "--resume", "--log-every", "0"])
    check(after_kill.returncode == 0 and latest_step > 0,
          f"after 5 kills mid-checkpoint the latest checkpoint (step {latest_step}) resumes",
          after_kill.stderr)

    # Export.
    exported = os.path.join(work, "trained.onnx")
    run([exe, "--steps", "5", "--data", data, "--save-onnx", exported, "--log-every", "0"])
    reimport = run([args.cleavec, exported, "--emit=summary"])
    check(reimport.returncode == 0, "the exported model imports again", reimport.stderr)
    initial = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(os.path.join(MODELS, "gpt_toy.onnx")).graph.initializer}
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(exported).graph.initializer}
    changed = sum(1 for name in initial if name in trained and not np.array_equal(initial[name], trained[name]))
    check(changed == 28, f"all 28 parameters were trained ({changed} changed)")

    print(f"e2e: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
