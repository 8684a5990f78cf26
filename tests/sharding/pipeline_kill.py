#!/usr/bin/python3
"""A lost pipeline stage ends the job with its rank named, never a hang
(issue 11, section 4).

The MLP is compiled for pp=2 with 2 micro-batches and started on 2 MPI
ranks for a practically endless run with CLEAVE_COMM_TIMEOUT=TIMEOUT. Once
the metrics show its first steps, one rank's process (found among
mpirun's descendants by its OMPI_COMM_WORLD_RANK) is

  - killed (SIGKILL, rank 0): mpirun notices and ends the job, naming the
    rank ("mpirun noticed that process rank 0 ... exited on signal 9");
  - killed (SIGKILL, rank 1) under `mpirun --mca
    orte_abort_on_non_zero_status 0` (a launcher that does not end the
    job) and
  - stopped (SIGSTOP, rank 1): nothing notices but the other stage, whose
    transfer with it times out: "cleave: error: rank 0: ... no data from
    rank 1 after ... (timeout ..., CLEAVE_COMM_TIMEOUT)", or, waiting for a
    send, "... to rank 1 over group 'pp' ...: rank 1 did not take its data".

Either way the job must end non-zero within TIMEOUT + LIMIT_SLACK seconds
of the signal, and its output must name the lost rank.

  /usr/bin/python3 tests/sharding/pipeline_kill.py --cleavec build/bin/cleavec --workdir /tmp/ppk
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

# What names rank 1 when it is lost (regular expression).
LOST_RANK_1 = r"no data from rank 1|to rank 1 over group .*: rank 1 did not take its data"

from mpi_runs import SKIPPED, mpi_environment, mpirun_missing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 3  # CLEAVE_COMM_TIMEOUT, seconds
# Past the timeout: the runtime's grace before MPI_Abort (min(3 s, timeout/2))
# and the launcher tearing the job down on 2 oversubscribed cores.
LIMIT_SLACK = 15


def descendants(root):
    """Pids of every process below `root`."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rank_pid(root, rank):
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except OSError:
            continue
        if f"OMPI_COMM_WORLD_RANK={rank}".encode() in variables:
            return pid
    return None


def lose_a_rank(exe, data, workdir, sig, victim, expected, launcher=()):
    """Starts the run, sends `sig` to rank `victim` after its first steps;
    True when the job ended in time naming the rank (`expected` in its output)."""
    name = signal.Signals(sig).name + (" (mpirun told not to notice)" if launcher else "")
    tag = f"{signal.Signals(sig).name}-{victim}{'-unnoticed' if launcher else ''}"
    metrics = os.path.join(workdir, f"{tag}.jsonl")
    log_path = os.path.join(workdir, f"{tag}.log")
    with open(log_path, "w") as log:
        job = subprocess.Popen(
            ["mpirun", "--oversubscribe", *launcher, "-np", "2", exe, "--data", data, "--steps", "100000000",
             "--metrics", metrics, "--log-every", "0"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=mpi_environment(CLEAVE_COMM_TIMEOUT=str(TIMEOUT)))
        victim_pid = None
        try:
            deadline = time.time() + 120
            while time.time() < deadline and job.poll() is None:
                if os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 3:
                    victim_pid = rank_pid(job.pid, victim)
                    break
                time.sleep(0.05)
            if victim_pid is None:
                print(f"  {name} rank {victim}: FAIL: no first steps or no process of rank "
                      f"{victim} (exit {job.poll()}); see {log_path}")
                return False
            steps = sum(1 for _ in open(metrics))
            os.kill(victim_pid, sig)
            sent = time.time()
            try:
                job.wait(timeout=TIMEOUT + LIMIT_SLACK)
            except subprocess.TimeoutExpired:
                print(f"  {name} rank {victim} (pid {victim_pid}) after {steps} steps: FAIL: the "
                      f"job still runs {TIMEOUT + LIMIT_SLACK} s later (a hang)")
                return False
            took = time.time() - sent
        finally:
            if job.poll() is None:
                os.killpg(job.pid, signal.SIGKILL)
                job.wait()
            if victim_pid is not None and sig == signal.SIGSTOP:
                try:
                    os.kill(victim_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    output = open(log_path).read()
    failures = []
    if job.returncode == 0:
        failures.append("the job exited 0")
    if not re.search(expected, output):
        failures.append(f"nothing matching '{expected}' in its output")
    status = "ok" if not failures else "FAIL: " + "; ".join(failures)
    print(f"  {name} rank {victim} (pid {victim_pid}) after {steps} steps: the job ended in "
          f"{took:.1f} s, exit {job.returncode}  {status}", flush=True)
    for line in output.splitlines():
        if "rank" in line and ("error" in line or "noticed" in line):
            print(f"    {line.strip()}")
    if failures:
        print(output)
    return not failures


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleavec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    if mpirun_missing():
        return SKIPPED
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    rng = np.random.default_rng(3)
    parts = []
    for key, array in (("x", rng.standard_normal((64, 32)).astype(np.float32)),
                       ("y", rng.integers(0, 10, 64).astype(np.int64))):
        path = os.path.join(args.workdir, f"{key}.npy")
        np.save(path, array)
        parts.append(f"{key}={path}")
    exe = os.path.join(args.workdir, "train")
    subprocess.run([args.cleavec, os.path.join(ROOT, "models", "onnx", "mlp.onnx"), "--target",
                    "cpu", "--loss", "cross_entropy", "--labels", "y", "--optimizer", "sgd",
                    "--grid", "pp=2", "--micro-batches", "2", "-o", exe], check=True)
    ok = lose_a_rank(exe, ",".join(parts), args.workdir, signal.SIGKILL, 0,
                     r"process rank 0")
    # The surviving stage times out waiting for data from rank 1, or for
    # rank 1 to take what it sent (sends are waited for an action later).
    ok &= lose_a_rank(exe, ",".join(parts), args.workdir, signal.SIGSTOP, 1, LOST_RANK_1)
    # A launcher that leaves the other ranks running when one dies (some
    # srun setups): the surviving stage's transfer times out, naming it.
    ok &= lose_a_rank(exe, ",".join(parts), args.workdir, signal.SIGKILL, 1, LOST_RANK_1,
                      ("--mca", "orte_abort_on_non_zero_status", "0"))
    print("lost pipeline stage:", "the job ended naming it" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
