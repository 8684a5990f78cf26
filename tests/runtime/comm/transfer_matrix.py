#!/usr/bin/python3
"""Runs the pipeline transfer test over a matrix of schedules.

    transfer_matrix.py MPIEXEC TRANSFER_TEST CLEAVE_OPT [--large]

For S in {2, 3, 4} ranks, M in {1, 2, 3, 4, 8, 16} and the schedules gpipe,
1f1b and interleaved with V = 2 and 4 (where M % S == 0), plus S = 8 (more
ranks than cores, --oversubscribe) for a few cases: writes each schedule
(cleave-opt's printer when it has cleave-print-pipeline-schedule, else
pipeline_schedules.py) and runs one `mpirun -np S TRANSFER_TEST schedules
FILE...` job per S. Fails when a job fails or prints no summary line.
Each schedule is also run through pipeline_schedules.nccl_lanes_check: the
same transfers under the NCCL communicator's rules (one lane per direction,
rendezvous, matched in posting order), which cannot run here without GPUs.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline_schedules  # noqa: E402

MICRO_BATCHES = [1, 2, 3, 4, 8, 16]


def cases():
    for S in (2, 3, 4):
        for M in MICRO_BATCHES:
            yield "gpipe", S, M, 1
            yield "1f1b", S, M, 1
            if M % S == 0:
                yield "interleaved", S, M, 2
                yield "interleaved", S, M, 4
    yield "1f1b", 8, 16, 1
    yield "gpipe", 8, 8, 1
    yield "interleaved", 8, 8, 2
    yield "interleaved", 8, 16, 4


def main():
    mpiexec, test, cleave_opt = sys.argv[1:4]
    use_printer = pipeline_schedules.printer_available(cleave_opt)
    print("schedules from " + ("cleave-opt --cleave-print-pipeline-schedule" if use_printer else
                               "pipeline_schedules.py (cleave-opt has no "
                               "cleave-print-pipeline-schedule)"))
    by_stages = {}
    nccl_problems = 0
    with tempfile.TemporaryDirectory(prefix="cleave-transfers-") as directory:
        for kind, S, M, V in cases():
            text = (pipeline_schedules.from_printer(cleave_opt, kind, S, M, V) if use_printer
                    else pipeline_schedules.generate(kind, S, M, V))
            path = os.path.join(directory, "%s-S%d-M%d-V%d.txt" % (kind, S, M, V))
            with open(path, "w") as f:
                f.write(text)
            by_stages.setdefault(S, []).append(path)
            problem = pipeline_schedules.nccl_lanes_check(text)
            if problem:
                print("NCCL lanes: %s S=%d M=%d V=%d: %s" % (kind, S, M, V, problem))
                nccl_problems += 1
        print("NCCL lanes: %d problems in %d schedules" %
              (nccl_problems, sum(len(p) for p in by_stages.values())))
        failed = nccl_problems > 0
        for S, paths in sorted(by_stages.items()):
            start = time.time()
            run = subprocess.run([mpiexec, "-np", str(S), "--oversubscribe", test, "schedules"] +
                                 paths, capture_output=True, text=True, timeout=300)
            sys.stdout.write(run.stdout + run.stderr)
            summary = "%d schedules on %d ranks, 0 failures" % (len(paths), S)
            ok = run.returncode == 0 and summary in run.stdout
            print("S=%d: %d schedules, exit %d, %.1f s: %s" %
                  (S, len(paths), run.returncode, time.time() - start, "ok" if ok else "FAILED"))
            failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
