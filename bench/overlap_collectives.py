#!/usr/bin/python3
"""A large all-reduce overlapped with compute, against blocking, on CPU ranks.

Runs `cleave-comm-test overlap COUNT WORK REPEATS` (tests/runtime/comm/
OverlapBench.cpp) under `mpirun -np RANKS` for each reduction order
(CLEAVE_REDUCTION_ORDER=library|rank) and each all-reduce size. Per size the
program times, median over REPEATS of the slowest rank:

  compute   a dependent float loop of WORK iterations, no communication
  comm      the all-reduce alone (blocking)
  blocking  the all-reduce, then the compute
  overlap   all_reduce_start, the compute, wait_collective

and this script prints a markdown table with

  hidden = (blocking - overlap) / comm

the share of the all-reduce the overlap hid (1: all of it; 0: none).

  /usr/bin/python3 bench/overlap_collectives.py --comm-test build/bin/cleave-comm-test

The collectives run on the MPI communicator's thread (docs/runtime-comm.md,
"Non-blocking collectives"): on a machine with fewer free cores than ranks x 2
threads the thread competes with the compute for a core, so only part of the
communication can hide.
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--comm-test", required=True, help="build/bin/cleave-comm-test")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--counts", default="1000000,4000000,16000000",
                        help="all-reduce sizes in floats, comma-separated")
    parser.add_argument("--work", type=int, default=20000000, help="compute loop iterations")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1")
    print(f"{args.ranks} ranks, compute loop of {args.work} iterations, median of "
          f"{args.repeats} (slowest rank)\n")
    print("| order | floats | MiB | compute s | comm s | blocking s | overlap s | hidden |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for order in ("library", "rank"):
        for count in (int(c) for c in args.counts.split(",")):
            result = subprocess.run(
                ["mpirun", "--oversubscribe", "-np", str(args.ranks), args.comm_test, "overlap",
                 str(count), str(args.work), str(args.repeats)],
                capture_output=True, text=True, env=dict(env, CLEAVE_REDUCTION_ORDER=order),
                timeout=600)
            if result.returncode != 0:
                sys.exit(f"FAILED ({result.returncode}):\n{result.stdout}\n{result.stderr}")
            r = json.loads(result.stdout.strip().splitlines()[-1])
            hidden = (r["blocking_s"] - r["overlap_s"]) / r["comm_s"] if r["comm_s"] > 0 else 0
            print(f"| {order} | {count} | {count * 4 / 2**20:.0f} | {r['compute_s']:.3f} | "
                  f"{r['comm_s']:.3f} | {r['blocking_s']:.3f} | {r['overlap_s']:.3f} | "
                  f"{hidden:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
