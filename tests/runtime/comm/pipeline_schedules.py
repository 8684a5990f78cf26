#!/usr/bin/python3
"""Pipeline schedules in the text form of cleave-print-pipeline-schedule.

The runtime's transfer test (TransferTest.cpp, `schedules`) runs these on
MPI ranks. `write_schedule` takes the orders from cleave-opt's printer when
the pass is registered there, else from the generator below, which follows
the published orders:
  gpipe        every forward, then every backward (micro-batch order);
  1f1b         PipeDream-flush / Megatron-LM: stage p runs min(S-p-1, M)
               forwards, then alternates one forward and one backward,
               then the remaining backwards;
  interleaved  Megatron-LM's interleaved 1F1B (M a multiple of S): chunk c
               on stage c % S; virtual micro-batch k is model chunk
               (k mod S*V) div S (reversed for backwards) of micro-batch
               (k div S*V)*S + k mod S; (S-p-1)*2 + (V-1)*S warmup
               forwards (all of them when M == S), then one forward and
               one backward, then the remaining backwards.
"""
import subprocess
import sys


def stage_order(kind, S, M, V, p):
    if kind == "gpipe":
        return [("F", p, m) for m in range(M)] + [("B", p, m) for m in range(M)]
    if kind == "1f1b":
        warmup = min(S - p - 1, M)
        order = [("F", p, m) for m in range(warmup)]
        for i in range(M - warmup):
            order += [("F", p, warmup + i), ("B", p, i)]
        return order + [("B", p, m) for m in range(M - warmup, M)]
    if kind == "interleaved":
        if M % S:
            raise ValueError("interleaved needs micro-batches a multiple of the stages")
        total = M * V

        def action(k, forward):
            chunk = (k % (S * V)) // S
            if not forward:
                chunk = V - chunk - 1
            m = (k // (S * V)) * S + k % S
            return ("F" if forward else "B", chunk * S + p, m)

        warmup = total if M == S else min((S - p - 1) * 2 + (V - 1) * S, total)
        order = [action(k, True) for k in range(warmup)]
        for k in range(total - warmup):
            order += [action(k + warmup, True), action(k, False)]
        return order + [action(k, False) for k in range(total - warmup, total)]
    raise ValueError("unknown schedule " + kind)


def generate(kind, S, M, V):
    lines = ["schedule %s stages %d micro-batches %d virtual-stages %d" % (kind, S, M, V)]
    for p in range(S):
        order = stage_order(kind, S, M, V, p)
        lines.append("stage %d: " % p + " ".join("%s%d.%d" % a for a in order))
    return "\n".join(lines) + "\n"


def printer_available(cleave_opt):
    """True when cleave-opt registers cleave-print-pipeline-schedule."""
    if not cleave_opt:
        return False
    try:
        help_text = subprocess.run([cleave_opt, "--help"], capture_output=True, text=True,
                                   timeout=60).stdout
    except OSError:
        return False
    return "--cleave-print-pipeline-schedule" in help_text


def from_printer(cleave_opt, kind, S, M, V):
    options = "stages=%d micro-batches=%d virtual-stages=%d schedule=%s" % (S, M, V, kind)
    run = subprocess.run([cleave_opt, "--cleave-print-pipeline-schedule=" + options,
                          "-o", "/dev/null"], input="module {}\n", capture_output=True,
                         text=True, timeout=60)
    if run.returncode != 0:
        raise RuntimeError("cleave-opt failed for %s:\n%s" % (options, run.stderr))
    lines = [l for l in run.stdout.splitlines() if l.startswith(("schedule ", "stage "))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    kind, S, M, V = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.stdout.write(generate(kind, S, M, V))
