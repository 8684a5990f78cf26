#!/usr/bin/python3
"""Checks a 2-stage, 1-micro-batch split's predicted step against the
formula (docs/pipeline.md, "Pipelines the search picks"):

  F0 + T + F1 + B1 + max(T, Tg) + B0 + max(u0 + Ts, u1)

T: the cut's activation gradient (and activation) as a send-recv on the link
between the stages' first ranks (stage p starts at rank p * dp * tp); Tg: a
shared parameter's partial gradient (stage 1 -> its owner, stage 0), which
leaves with the cut's activation gradient on the same link, so the owner's
backward waits for both (cut + shared bytes); Ts: the updated value sent back; u_p: stage p's update
(stage_seconds - F_p - B_p). A send-recv costs latency + bytes /
(bandwidth * collective_efficiency), the slower link's figures across nodes.

  check_split_links.py SPLIT.mlir PROFILE.json DEVICES_PER_STAGE SHARED_BYTES
"""
import json
import re
import sys

path, profile_path, per_stage, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text = open(path).read()
attr = re.search(r"cleave\.pipeline = \{(.*?)\}, cleave\.", text, re.S).group(1)


def numbers(key):
    return [float(x.split(":")[0]) for x in
            re.search(key + r" = \[([^\]]*)\]", attr).group(1).split(",")]


predicted = float(re.search(r"predicted_step_seconds = ([0-9.eE+-]+)", attr).group(1))
forward, backward = numbers("chunk_forward_seconds"), numbers("chunk_backward_seconds")
stage_seconds, cut = numbers("stage_seconds"), numbers("cut_bytes")[0]
profile = json.load(open(profile_path))
per_node = profile["devices_per_node"]
intra, inter = profile["intra_node"], profile.get("inter_node", profile["intra_node"])
efficiency = profile.get("collective_efficiency", 1)
across = 0 // per_node != per_stage // per_node
if across:
    bandwidth = min(intra["bandwidth_gb_per_s"], inter["bandwidth_gb_per_s"]) * 1e9 * efficiency
    latency = max(intra["latency_us"], inter["latency_us"]) * 1e-6
else:
    bandwidth, latency = intra["bandwidth_gb_per_s"] * 1e9 * efficiency, intra["latency_us"] * 1e-6


def send(nbytes):
    return latency + nbytes / bandwidth


updates = [stage_seconds[p] - forward[p] - backward[p] for p in (0, 1)]
t, tg, ts = send(cut), send(cut + shared) if shared else 0.0, send(shared) if shared else 0.0
expected = (forward[0] + t + forward[1] + backward[1] + max(t, tg) + backward[0]
            + max(updates[0] + ts, updates[1]))
error = abs(predicted - expected) / expected
print(f"{'inter' if across else 'intra'}-node link: cut {cut:.0f} B in {t * 1e6:.3f} us, "
      f"cut + shared {cut + shared if shared else 0:.0f} B in {tg * 1e6:.3f} us; predicted {predicted:.9e} s, formula "
      f"{expected:.9e} s: {'match' if error < 1e-9 else 'DIFFER'}")
sys.exit(0 if error < 1e-9 else 1)
