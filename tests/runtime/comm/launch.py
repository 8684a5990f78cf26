#!/usr/bin/env python3
"""Starts a job the way torchrun or Kubernetes does, without mpirun.

    launch.py [--nproc N] [--timeout S] [--env K=V ...] [--unset K ...]
              [--kill RANK@SECONDS [--kill-after PATH]] -- PROGRAM ARGS...

Starts N copies of PROGRAM on this host, each with RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR=127.0.0.1 and MASTER_PORT (a free port), and waits
for all of them. Unlike torchrun it does not end the others when one fails:
the tests check that the ranks themselves notice a lost peer. After S
seconds (default 60) it kills what is left and says so (a hang); a rank
left stopped (SIGSTOP) once all others have exited is killed at once. Prints
"launch: rank R exited with status X" for each rank that did not exit 0,
and exits with the largest status (128+signal for a rank killed by one).
--kill sends SIGKILL to RANK SECONDS after the start (a node lost mid-job);
with --kill-after, not before PATH exists either (the job has started work).
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stopped(process):
    """Whether the process is stopped (SIGSTOP): it will never exit alone."""
    try:
        with open(f"/proc/{process.pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--unset", action="append", default=[])
    parser.add_argument("--kill", default=None)
    parser.add_argument("--kill-after", default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program to launch")
    port = free_port()
    ranks = []
    for rank in range(args.nproc):
        env = dict(os.environ)
        # A test run under mpirun must not make the ranks believe it.
        for mpi in ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"):
            env.pop(mpi, None)
        env.update(RANK=str(rank), WORLD_SIZE=str(args.nproc), LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        for pair in args.env:
            key, _, value = pair.partition("=")
            env[key] = value
        for key in args.unset:
            env.pop(key, None)
        ranks.append(subprocess.Popen(command, env=env))
    start = time.monotonic()
    deadline = start + args.timeout
    victim, kill_at = None, None
    if args.kill:
        victim, _, seconds = args.kill.partition("@")
        victim, kill_at = int(victim), start + float(seconds)
    status = 0
    pending = set(range(args.nproc))
    while pending:
        if (kill_at is not None and time.monotonic() >= kill_at
                and (args.kill_after is None or os.path.exists(args.kill_after))):
            print(f"launch: killing rank {victim} (SIGKILL)", flush=True)
            ranks[victim].send_signal(signal.SIGKILL)
            kill_at = None
        for rank in sorted(pending):
            code = ranks[rank].poll()
            if code is None:
                continue
            pending.discard(rank)
            code = 128 - code if code < 0 else code
            if code:
                print(f"launch: rank {rank} exited with status {code}", flush=True)
            status = max(status, code)
        if pending and all(stopped(ranks[rank]) for rank in pending):
            for rank in sorted(pending):
                print(f"launch: rank {rank} is stopped and the others have exited: killed",
                      flush=True)
                ranks[rank].kill()
                ranks[rank].wait()
            return max(status, 128 + signal.SIGKILL)
        if pending and time.monotonic() > deadline:
            print(f"launch: ranks {sorted(pending)} still running after {args.timeout:g} s: "
                  "killed (a hang)", flush=True)
            for rank in pending:
                ranks[rank].kill()
                ranks[rank].wait()
            return 124
        time.sleep(0.02)
    return status


if __name__ == "__main__":
    sys.exit(main())
