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
               forwards (at most M*V), then one forward and one backward,
               then the remaining backwards.
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

        warmup = min((S - p - 1) * 2 + (V - 1) * S, total)
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


def parse(text):
    """(kind, S, M, V, [[(kind, chunk, micro-batch), ...] per stage])."""
    stages = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "schedule":
            kind, S, M, V = words[1], int(words[3]), int(words[5]), int(words[7])
            stages = [[] for _ in range(S)]
        elif words[0] == "stage":
            p = int(words[1].rstrip(":"))
            for item in words[2:]:
                c, m = item[1:].split(".")
                stages[p].append((item[0], int(c), int(m)))
    return kind, S, M, V, stages


def transfers(S, C, action):
    """The (peer stage, key, receive) transfers of an action, input first."""
    kind, c, m = action
    result = []
    if kind == "F":
        if c > 0 and (c - 1) % S != c % S:
            result.append(((c - 1) % S, ("F", c - 1, m), True))
        if c < C - 1 and (c + 1) % S != c % S:
            result.append(((c + 1) % S, ("F", c, m), False))
    elif kind == "B":
        if c < C - 1 and (c + 1) % S != c % S:
            result.append(((c + 1) % S, ("B", c + 1, m), True))
        if c > 0 and (c - 1) % S != c % S:
            result.append(((c - 1) % S, ("B", c, m), False))
    return result


def nccl_lanes_check(text):
    """Runs a schedule, posted as TransferTest.cpp posts it (each receive one
    action ahead, each send waited one action later), under the NCCL
    communicator's rules (nccl_communicator.cpp): per rank one lane per
    direction (to a higher stage, to a lower one), each running its
    transfers in posting order, each transfer starting once the step's
    stream has done the work queued before it was posted and completing
    when its peer's matching transfer is at the head of the peer's lane
    (rendezvous); a wait makes the step's stream wait for the transfer.
    Returns None when every rank finishes and each pair matched the same
    transfers, else what went wrong."""
    kind, S, M, V, stages = parse(text)
    C = S * V
    compute, lanes = [], []  # per rank: stream ops; per rank and lane: transfer queues
    for p in range(S):
        actions = stages[p]
        stream, lane = [], [[], []]
        recv_of, send_of = {}, {}

        def post(i, receive):
            for peer, key, is_receive in transfers(S, C, actions[i]):
                if is_receive == receive:
                    frm, to = (peer, p) if receive else (p, peer)
                    queue = lane[0 if to > frm else 1]
                    queue.append({"peer": peer, "key": key, "receive": receive,
                                  "after": len(stream), "done": False})
                    (recv_of if receive else send_of)[i] = queue[-1]

        if actions:
            post(0, True)
        for i in range(len(actions)):
            if i + 1 < len(actions):
                post(i + 1, True)
            if i in recv_of:
                stream.append(("wait", recv_of[i]))
            stream.append(("action", i))
            post(i, False)
            if i - 1 in send_of:
                stream.append(("wait", send_of[i - 1]))
        if len(actions) - 1 in send_of:
            stream.append(("wait", send_of[len(actions) - 1]))
        compute.append(stream)
        lanes.append(lane)
    position = [0] * S
    heads = [[0, 0] for _ in range(S)]
    progress = True
    while progress:
        progress = False
        for p in range(S):
            stream = compute[p]
            while position[p] < len(stream):
                op = stream[position[p]]
                if op[0] == "wait" and not op[1]["done"]:
                    break
                position[p] += 1
                progress = True
        for p in range(S):
            for d in range(2):
                queue = lanes[p][d]
                if heads[p][d] >= len(queue):
                    continue
                mine = queue[heads[p][d]]
                if mine["receive"] or position[p] < mine["after"]:
                    continue
                q = mine["peer"]
                theirs = lanes[q][d]
                if heads[q][d] >= len(theirs):
                    continue
                other = theirs[heads[q][d]]
                if not other["receive"] or other["peer"] != p or position[q] < other["after"]:
                    continue
                if other["key"] != mine["key"]:
                    return "stage %d's send %s met stage %d's receive %s" % (
                        p, mine["key"], q, other["key"])
                mine["done"] = other["done"] = True
                heads[p][d] += 1
                heads[q][d] += 1
                progress = True
    stuck = [p for p in range(S) if position[p] < len(compute[p])]
    if stuck:
        return "deadlock: stages %s stop at stream ops %s" % (
            stuck, [position[p] for p in stuck])
    return None
