#!/usr/bin/python3
"""Planner benchmark: Alpa's GPT suite planned by Cleave's configuration
search, against the best Megatron-style 3-D plan under the same cost model.

Suite (default, `--suite alpa`): the GPT models of Alpa's benchmark (OSDI'22,
Table 4; ../shared/ANCHORS.md), shapes only, global batch 1024 x sequence
1024, mixed precision (`--precision bf16`), on simulated H100 clusters:
1.3B and 2.6B on 8 GPUs (h100-sxm-8x1), 15B on 32 (h100-sxm-8x4), 39B on 64
(h100-sxm-8x8). For each model:

  auto     `cleave-plan <model> --devices N --cluster C --format json`: the
           configuration search (docs/planner.md) decides stages, dp x tp, micro-batches,
           recomputation and ZeRO; timed (wall and CPU) against the issue's
           limit (20 / 20 / 40 / 60 s on the 2-core development machine).
  megatron every Megatron-style configuration (pp, dp, tp, micro-batches M,
           recompute none|selective|full, ZeRO 0-3, 1F1B), each priced by
           `cleave-plan` with every pin given (`--grid pp=,dp=,tp=
           --micro-batches --recompute --zero` and Megatron's tensor-parallel
           layouts of the GPT as --shard pins). The enumeration is pruned by
           divisibility only: tp inside a node and dividing the heads, dp
           dividing the batch, M dividing the per-dp batch, pp dividing the
           layers; ZeRO levels collapse to 0 when dp = 1 (they are the same
           plan). The best is the fastest one that fits. --megatron-pricing
           micro prices a (pp, dp, tp, M)'s recompute x ZeRO candidates in
           one call (the search's alternatives), grid leaves M to the search.
  MFU      model FLOPs per step (Narayanan et al. 2021, no recomputation):
           72 B s l h^2 (1 + s/(6h) + V/(12 l h)), divided by the predicted
           step and N x the profile's bf16 peak. HFU counts recomputation:
           full adds one forward of every layer (96 B s l h^2 (1 + s/(6h) +
           V/(16 l h))), selective the attention core's forward (4 B s^2 h
           per layer).

Flag values a cleave-plan build does not accept (e.g. `--recompute` before
the recompute work, `--zero 1` before ZeRO-1) are found by a probe on a tiny
model and left out of the enumeration; the output says which.

Prices are cached per cleave-plan call under --workdir, keyed by the
binary (path, size, mtime), so an interrupted run resumes. --check exits 1
unless the issue's criteria hold.

  /usr/bin/python3 bench/planner.py --build build --workdir build/bench-planner
  /usr/bin/python3 bench/planner.py --models 1.3B --jobs 2
  /usr/bin/python3 bench/planner.py --smoke        # seconds: what ctest runs
  /usr/bin/python3 bench/planner.py --suite grid   # the older dp x tp comparison
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1 << 30

# (label, gen_gpt preset, layers, hidden, heads, devices, cluster, planning limit s)
SUITE = [
    ("1.3B", "alpa-1.3b", 24, 2048, 32, 8, "h100-sxm-8x1", 20),
    ("2.6B", "alpa-2.6b", 32, 2560, 32, 8, "h100-sxm-8x1", 20),
    ("15B", "alpa-15b", 48, 5120, 40, 32, "h100-sxm-8x4", 40),
    ("39B", "alpa-39b", 48, 8192, 64, 64, "h100-sxm-8x8", 60),
]
VOCAB, SEQ, BATCH = 51200, 1024, 1024
# The smoke test: gen_gpt's toy sizes (2 layers, hidden 32, 2 heads, vocab 64,
# batch 2 x 16 tokens) on 4 devices.
SMOKE = ("toy", "toy", 2, 32, 2, 4, "h100-sxm-8x1", 30)
SMOKE_VOCAB, SMOKE_SEQ, SMOKE_BATCH = 64, 16, 2

# Published figures (../shared/ANCHORS.md), printed next to the predictions.
PUBLISHED = [
    ("Megatron-LM, GPT 1T on 3072 A100 (Narayanan et al. 2021)",
     "502 PFLOP/s = 52% of the A100 bf16 peak"),
    ("Megatron-LM README, H100", "up to 47% MFU"),
    ("Alpa, GPT 1.3B-39B on up to 64 V100 (OSDI'22)",
     "matches Megatron-LM (throughput plot; ANCHORS.md records no PFLOP/s figure)"),
]

RECOMPUTE = ("none", "selective", "full")
ZERO = (0, 1, 2, 3)


def megatron_pins(layers):
    """Megatron's tensor parallelism of the GPT: MLP c_fc column- then c_proj
    row-parallel, the attention output projection row-parallel over tp (the
    q/k/v projection and the heads follow by propagation)."""
    pins = []
    for i in range(layers):
        h = f"transformer.h.{i}"
        pins += [f"{h}.mlp.c_fc.weight=tp,-", f"{h}.mlp.c_fc.bias=tp",
                 f"{h}.mlp.c_proj.weight=-,tp", f"{h}.attn.c_proj.weight=-,tp"]
    return pins


def model_flops(batch, seq, layers, hidden, vocab):
    return 72 * batch * seq * layers * hidden ** 2 * (
        1 + seq / (6 * hidden) + vocab / (12 * layers * hidden))


def hardware_flops(batch, seq, layers, hidden, vocab, recompute):
    if recompute == "full":
        return 96 * batch * seq * layers * hidden ** 2 * (
            1 + seq / (6 * hidden) + vocab / (16 * layers * hidden))
    extra = 4 * batch * seq * seq * hidden * layers if recompute == "selective" else 0
    return model_flops(batch, seq, layers, hidden, vocab) + extra


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def megatron_candidates(layers, heads, devices, per_node, batch, recompute_modes, zero_levels):
    """Every (pp, dp, tp, M, recompute, zero) allowed by divisibility."""
    out = []
    for pp in divisors(devices):
        if layers % pp:
            continue
        for tp in divisors(devices // pp):
            if tp > per_node or per_node % tp or heads % tp:
                continue
            dp = devices // (pp * tp)
            if batch % dp:
                continue
            for m in divisors(batch // dp):
                for recompute in recompute_modes:
                    for zero in (zero_levels if dp > 1 else (0,)):
                        out.append(dict(pp=pp, dp=dp, tp=tp, micro_batches=m,
                                        recompute=recompute, zero=zero))
    return out


def spec_text(c):
    """The configuration's spec text (issue 12 contract)."""
    text = (f"pp={c.get('pp', 1)},dp={c.get('dp', 1)},tp={c.get('tp', 1)} "
            f"micro-batches={c.get('micro_batches', 1)}")
    if c.get("schedule"):
        text += f" schedule={c['schedule']}"
        if (c.get("virtual_stages") or 1) != 1:
            text += f" virtual-stages={c['virtual_stages']}"
    return text + f" recompute={c.get('recompute', 'none')} zero={c.get('zero', 0)}" + (
        " sequence-parallel=on" if c.get("sequence_parallel") else "")


# What one cleave-plan call pins, per --megatron-pricing: `each` every
# decision (one candidate a call); `micro` the grid and M (the search prices
# the recompute x ZeRO candidates of that grid and M in one call and lists
# them among its alternatives); `grid` the grid only (the search chooses M,
# recompute and ZeRO under its own limits: not an independent check).
PINNED = {"each": ("pp", "dp", "tp", "micro_batches", "recompute", "zero"),
          "micro": ("pp", "dp", "tp", "micro_batches"),
          "grid": ("pp", "dp", "tp")}
KEY = PINNED["each"]


def group_flags(g, layers, devices, cluster, supported):
    flags = ["--cluster", cluster, "--grid", f"pp={g['pp']},dp={g['dp']},tp={g['tp']}"]
    if "micro_batches" in g:
        flags += ["--micro-batches", str(g["micro_batches"])]
    if "recompute" in g and supported["recompute_flag"]:
        flags += ["--recompute", g["recompute"]]
    if "zero" in g:
        flags += ["--zero", str(g["zero"])]
    if supported["configuration_search"]:
        # --devices: the search prices what the pins leave open by the cost
        # model it chose the auto plan by; 1F1B pinned (Megatron's default
        # schedule; the search would also try interleaved).
        flags += ["--devices", str(devices)]
        if g["pp"] > 1:
            flags += ["--schedule", "1f1b"]
    if g["tp"] > 1:
        for pin in megatron_pins(layers):
            flags += ["--shard", pin]
    return flags


def parse_spec(text):
    """The fields of a configuration spec text (issue 12 contract)."""
    c = {"schedule": "1f1b", "virtual_stages": 1, "recompute": "none", "zero": 0,
         "micro_batches": 1, "sequence_parallel": False, "pp": 1, "dp": 1, "tp": 1}
    for token in text.split():
        name, _, value = token.partition("=")
        if "," in value or name in ("pp", "dp", "tp"):
            for axis in token.split(","):
                k, _, v = axis.partition("=")
                c[k] = int(v)
        elif name == "micro-batches":
            c["micro_batches"] = int(value)
        elif name == "virtual-stages":
            c["virtual_stages"] = int(value)
        elif name == "zero":
            c["zero"] = int(value)
        elif name == "sequence-parallel":
            c["sequence_parallel"] = value == "on"
        elif name in ("schedule", "recompute"):
            c[name] = value
    return c


def cleave_plan(binary, model, flags, precision, timeout):
    """Runs cleave-plan (`binary`); (report or None, wall s, return
    code, last error line)."""
    command = [binary, model, "--no-weights",
               "--loss", "cross_entropy", "--labels", "targets", "--format", "json", *flags]
    if precision != "fp32":
        command += ["--precision", precision]
    start = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start, None, f"timed out after {timeout} s"
    seconds = time.monotonic() - start
    error = (result.stderr.strip().splitlines() or [""])[-1]
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None, seconds, result.returncode, error or "no output"
    return report, seconds, result.returncode, error


def summarize(report, rc):
    """The figures the benchmark compares, from one cleave-plan JSON report.
    A plan fits when cleave-plan accepted it (it exits 1 after printing a
    plan that does not fit)."""
    memory = report.get("memory_per_device", {})
    fits = rc == 0 and memory.get("fits", True) is not False
    if "pipeline" in report and report["pipeline"].get("fits") is False:
        fits = False
    # step: the configuration search's price where it ran (the cost model
    # the search decides by), else the report's; report_step: what the
    # report prices for the program the configuration was carried out as.
    # fits: the search's verdict where it ran (alternatives carry only
    # that one), else cleave-plan's; report_fits: cleave-plan's for the
    # program carried out (it exits 1 after printing a plan that does not).
    out = {"step": report["step_seconds"]["total"], "report_step": report["step_seconds"]["total"],
           "fits": fits, "report_fits": fits, "gib": round(memory.get("total", 0) / GIB, 2)}
    if report.get("not_unrolled"):
        out["not_unrolled"] = report["not_unrolled"]
    configuration = report.get("configuration")
    if configuration:
        out["configuration"] = {k: v for k, v in configuration.items() if k != "alternatives"}
        out["spec"] = configuration.get("spec") or spec_text(configuration)
        out["alternatives"] = configuration.get("alternatives", [])
        if configuration.get("predicted_step_seconds") is not None:
            out["step"] = configuration["predicted_step_seconds"]
        if configuration.get("fits") is not None:
            out["fits"] = bool(configuration["fits"])
        if configuration.get("memory_bytes"):
            out["search_gib"] = round(configuration["memory_bytes"] / GIB, 2)
    else:  # before the configuration search: the grid and what pipelines say
        pipeline = report.get("pipeline") or {}
        out["spec"] = report["grid"]["spec"] + (
            f" micro-batches={pipeline['micro_batches']}" if pipeline.get("micro_batches") else "") + (
            f" zero={report['grid'].get('zero', 0)}")
    return out


def ensure_model(workdir, preset, extra=()):
    path = os.path.join(workdir, "-".join([preset, *extra]).replace("--", "") + ".onnx")
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", "gen_gpt.py"),
                        "--preset", preset, "--shapes-only", *extra, "-o", path],
                       check=True, capture_output=True)
    return path


def probe_flags(binary, workdir, precision):
    """What this cleave-plan offers, tried on a tiny model: the --recompute
    and --zero values it accepts (a value it rejects prints no plan) and
    whether it has the configuration search (its JSON has `configuration`)."""
    model = ensure_model(workdir, "toy")

    def plans(flags):
        return cleave_plan(binary, model, flags, precision, 120)[0]

    recompute = ["none"] + [m for m in ("selective", "full")
                            if plans(["--grid", "dp=2", "--recompute", m]) is not None]
    zero = [z for z in ZERO if z == 0 or plans(["--grid", "dp=2", "--zero", str(z)]) is not None]
    auto = plans(["--devices", "2"])
    return {"recompute": recompute, "recompute_flag": len(recompute) > 1, "zero": zero,
            "configuration_search": auto is not None and "configuration" in auto}


def binary_key(binary):
    path = binary
    st = os.stat(path)
    return hashlib.sha1(f"{os.path.realpath(path)} {st.st_size} {st.st_mtime_ns}".encode()
                        ).hexdigest()[:12]


def price_groups(args, model, label, entry, candidates, supported):
    """Prices the candidates, one cleave-plan call per group of candidates
    that share the pinned decisions (cached per group); returns a result per
    candidate, the number of calls, wall s, CPU s, configurations the search
    reported pricing."""
    _, _, layers, _, _, devices, cluster, _ = entry
    pinned = PINNED[args.megatron_pricing]
    cache_dir = os.path.join(args.workdir, "cache", binary_key(args.binary),
                             f"{label}-{cluster}-{devices}-{args.precision}-"
                             f"{args.megatron_pricing}")
    os.makedirs(cache_dir, exist_ok=True)
    groups = {}
    for c in candidates:
        groups.setdefault(tuple(c[k] for k in pinned), []).append(c)

    def price(key):
        g = dict(zip(pinned, key))
        name = "_".join(f"{k}{v}" for k, v in g.items())
        path = os.path.join(cache_dir, name + ".json")
        if os.path.exists(path) and not args.no_cache:
            with open(path) as f:
                return json.load(f)
        flags = group_flags(g, layers, devices, cluster, supported)
        report, seconds, rc, error = cleave_plan(args.binary, model, flags, args.precision,
                                                 args.timeout)
        out = {"group": g, "seconds": round(seconds, 3), "rc": rc, "error": error,
               "entries": []}
        if report is None:
            # rejected: cleave-plan said why (exit 1); crashed: a signal, a
            # timeout, or nothing said.
            out["crashed"] = rc is None or rc < 0 or not error or error == "no output"
        else:
            figures = summarize(report, rc)
            chosen = dict(g)
            configuration = figures.get("configuration") or {}
            if len(pinned) < len(KEY):
                chosen.update({k: v for k, v in configuration.items() if k in KEY})
            entry_ = {**{k: chosen.get(k) for k in KEY}, "step": figures["step"],
                      "report_step": figures["report_step"], "fits": figures["fits"],
                      "report_fits": figures["report_fits"],
                      "gib": figures.get("search_gib", figures["gib"]), "source": "chosen"}
            if configuration and any(configuration.get(k) != g[k] for k in pinned):
                # the pins did not hold: say what was priced instead
                entry_["carried_out"] = figures["spec"]
            out["entries"].append(entry_)
            out["configurations_priced"] = configuration.get("configurations_priced", 1)
            if len(pinned) < len(KEY):
                for alternative in figures.get("alternatives", []):
                    c = parse_spec(alternative["spec"])
                    if c["schedule"] != "1f1b" or c["sequence_parallel"]:
                        continue
                    out["entries"].append({**{k: c[k] for k in KEY},
                                           "step": alternative["step_seconds"],
                                           "fits": bool(alternative.get("fits")),
                                           "gib": round(alternative.get("memory_bytes", 0) / GIB,
                                                        2),
                                           "source": "alternative"})
        with open(path + ".tmp", "w") as f:
            json.dump(out, f)
        os.replace(path + ".tmp", path)
        return out

    start, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    results, calls, searched = [], [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for i, (key, out) in enumerate(zip(groups, pool.map(price, groups)), 1):
            calls.append(out)
            searched += out.get("configurations_priced", 0)
            listed = {}
            for e in out["entries"]:
                listed.setdefault(tuple(e[k] for k in KEY), e)
            for c in groups[key]:
                result = {"candidate": c, "spec": spec_text(c), "seconds": out["seconds"]}
                e = listed.get(tuple(c[k] for k in KEY))
                if e is not None:
                    result.update(priced=True, step=e["step"], fits=e["fits"], gib=e["gib"],
                                  source=e["source"])
                    for extra in ("report_step", "report_fits", "carried_out"):
                        if extra in e:
                            result[extra] = e[extra]
                    if not e["fits"] and e["source"] == "chosen":
                        result["error"] = out["error"]
                elif out["entries"]:
                    # priced by the search, not among the alternatives it lists
                    result.update(priced=False, unlisted=True)
                else:
                    result.update(priced=False, error=out["error"],
                                  crashed=out.get("crashed", False))
                results.append(result)
            if args.verbose or i % 25 == 0:
                print(f"  {label}: {i}/{len(groups)} cleave-plan calls", file=sys.stderr,
                      flush=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    return results, calls, time.monotonic() - start, cpu_seconds, searched


def run_model(args, entry, supported, vocab=VOCAB, seq=SEQ, batch=BATCH):
    label, preset, layers, hidden, heads, devices, cluster, limit = entry
    model = ensure_model(args.workdir, preset)
    row = {"model": label, "preset": preset, "devices": devices, "cluster": cluster,
           "precision": args.precision, "planning_limit_seconds": limit}
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    report, seconds, rc, error = cleave_plan(args.binary, model,
                                             ["--devices", str(devices), "--cluster", cluster],
                                             args.precision, args.timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row["planning_seconds"] = round(seconds, 2)
    row["planning_cpu_seconds"] = round(after.ru_utime - cpu.ru_utime
                                        + after.ru_stime - cpu.ru_stime, 2)
    row["within_limit"] = seconds <= limit
    flops = model_flops(batch, seq, layers, hidden, vocab)
    peak = None
    if report is None:
        row["auto_error"] = error
    else:
        peak = report["cluster"]["device"]["peak_tflops"].get(
            "bf16" if args.precision == "bf16" else "f32") * 1e12
        auto = summarize(report, rc)
        row["auto"] = auto
        if not auto["fits"]:
            row["auto_error"] = error
        recompute = auto.get("configuration", {}).get("recompute", "none")
        row["model_flops"] = flops
        row["peak_flops_per_device"] = peak
        # The cost model's floor: the model FLOPs at the profile's GEMM
        # efficiency on every device, nothing else (MFU cannot exceed it).
        efficiency = report["cluster"]["device"].get("compute_efficiency", 1)
        row["floor_step"] = flops / (devices * peak * efficiency)
        row["auto_mfu"] = round(flops / (auto["step"] * devices * peak), 4)
        row["auto_hfu"] = round(hardware_flops(batch, seq, layers, hidden, vocab, recompute)
                                / (auto["step"] * devices * peak), 4)
    if args.no_megatron:
        return row
    recompute_modes, zero_levels = supported["recompute"], supported["zero"]
    per_node = 8 if cluster.startswith("h100") or cluster.startswith("a100") else devices
    candidates = megatron_candidates(layers, heads, devices, per_node, batch, recompute_modes,
                                     zero_levels)
    results, calls, wall, cpu_seconds, searched = price_groups(args, model, label, entry,
                                                              candidates, supported)
    fitting = [r for r in results if r.get("priced") and r.get("fits")]
    row["megatron"] = {"pricing": args.megatron_pricing, "candidates": len(candidates),
                       "calls": len(calls),
                       "priced": sum(1 for r in results if r.get("priced")),
                       "unlisted": sum(1 for r in results if r.get("unlisted")),
                       "rejected": sum(1 for r in results if not r.get("priced")
                                       and not r.get("unlisted") and not r.get("crashed")),
                       "failed": sum(1 for r in results if r.get("crashed")),
                       "fit": len(fitting), "search_priced": searched,
                       "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu_seconds, 1),
                       "call_seconds_sum": round(sum(c["seconds"] for c in calls), 1),
                       "call_seconds_max": round(max((c["seconds"] for c in calls), default=0), 1),
                       "recompute_modes": list(recompute_modes), "zero_levels": list(zero_levels)}
    row["megatron"]["results"] = results
    failures = [r for r in results if not r.get("priced") and not r.get("unlisted")]
    failures.sort(key=lambda r: not r.get("crashed"))
    if failures:
        row["megatron"]["first_failures"] = [(r["spec"], r.get("error")) for r in failures[:3]]
    if fitting:
        best = min(fitting, key=lambda r: r["step"])
        row["megatron"]["best"] = best
        if peak:
            row["megatron"]["best_mfu"] = round(flops / (best["step"] * devices * peak), 4)
        if "auto" in row and row["auto"]["fits"]:
            row["auto_over_best"] = round(row["auto"]["step"] / best["step"], 4)
    return row


def markdown(rows):
    lines = ["| model | GPUs | planning s (limit) | auto configuration | auto step s | GiB | MFU "
             "(HFU) | best Megatron 3-D | its step s | its MFU | auto / best | candidates priced "
             "(fit), cleave-plan calls, wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        auto = r.get("auto") or {}
        meg = r.get("megatron") or {}
        best = meg.get("best") or {}
        cells = [r["model"], r["devices"],
                 f"{r['planning_seconds']} ({r['planning_limit_seconds']})"
                 + ("" if r["within_limit"] else " over the limit"),
                 auto.get("spec", r.get("auto_error", ""))
                 + ("" if auto.get("fits", True) else " (does not fit)")
                 + ("" if auto.get("report_fits", True) or not auto.get("fits", True)
                    else " (fits by the search, not as carried out)"),
                 f"{auto['step']:.4g}" if auto else "-", auto.get("search_gib", auto.get("gib", "-")),
                 f"{100 * r['auto_mfu']:.1f}% ({100 * r['auto_hfu']:.1f}%)"
                 if "auto_mfu" in r and auto.get("fits") else "-",
                 best.get("spec", "none fits" if meg else "-"),
                 f"{best['step']:.4g}" if best else "-",
                 f"{100 * meg['best_mfu']:.1f}%" if "best_mfu" in meg else "-",
                 r.get("auto_over_best", "-"),
                 f"{meg['priced']} ({meg['fit']}), {meg['calls']} calls, "
                 f"{meg['wall_seconds']}" if meg else "-"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "Published (not the same hardware; a sanity check only):", "",
              "| system | figure |", "|---|---|"]
    lines += [f"| {system} | {figure} |" for system, figure in PUBLISHED]
    return "\n".join(lines)


def run_alpa_suite(args):
    wanted = args.models.split(",") if args.models else [e[0] for e in SUITE]
    entries = [e for e in SUITE if e[0] in wanted]
    if args.smoke:
        entries = [SMOKE]
    os.makedirs(args.workdir, exist_ok=True)
    load_before = os.getloadavg()
    supported = probe_flags(args.binary, args.workdir, args.precision)
    print(f"cleave-plan: {supported}", file=sys.stderr)
    if args.megatron_pricing != "each" and not supported["configuration_search"]:
        print(f"--megatron-pricing {args.megatron_pricing} needs the configuration search "
              "(cleave-plan's JSON has no `configuration`)", file=sys.stderr)
        return 2
    rows = []
    for entry in entries:
        if args.smoke:
            row = run_model(args, entry, supported, SMOKE_VOCAB, SMOKE_SEQ, SMOKE_BATCH)
        else:
            row = run_model(args, entry, supported)
        rows.append(row)
        brief = {k: v for k, v in row.items() if k not in ("auto", "megatron")}
        brief["auto_spec"] = (row.get("auto") or {}).get("spec")
        brief["megatron"] = {k: v for k, v in (row.get("megatron") or {}).items()
                             if k != "results"}
        print(json.dumps(brief), file=sys.stderr, flush=True)
    result = {"suite": "smoke" if args.smoke else "alpa", "precision": args.precision,
              "cpus": os.cpu_count(), "load_average_before": load_before,
              "load_average_after": os.getloadavg(),
              "cleave_plan": supported, "megatron_pricing": args.megatron_pricing,
              "published": PUBLISHED, "rows": rows}
    out = args.json or os.path.join(args.workdir, "planner-smoke.json" if args.smoke
                                    else "planner-alpa.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(markdown(rows))
    print(f"\nJSON: {out}; load average before {load_before}, after {os.getloadavg()} "
          f"({os.cpu_count()} CPUs)")
    if args.smoke:
        return check_smoke(result)
    return check_issue(result) if args.check else 0


def check_issue(result):
    """--check: the issue's criteria per model: a plan that fits, planned
    within the limit, at least as fast as the best Megatron-style plan."""
    problems = []
    for row in result["rows"]:
        auto = row.get("auto") or {}
        if not auto.get("fits"):
            problems.append(f"{row['model']}: no plan that fits ({row.get('auto_error')})")
        if not row["within_limit"]:
            problems.append(f"{row['model']}: planned in {row['planning_seconds']} s, limit "
                            f"{row['planning_limit_seconds']} s")
        ratio = row.get("auto_over_best")
        if isinstance(ratio, float) and ratio > 1.0:
            problems.append(f"{row['model']}: auto / best Megatron {ratio} > 1")
    for p in problems:
        print("check: " + p, file=sys.stderr)
    return 1 if problems else 0


def check_smoke(result):
    """What the ctest smoke test holds the script to: no candidate crashed
    cleave-plan and some were priced, the best is the fastest that fits, the
    ratio is the ratio, MFU in (0, 1)."""
    problems = []
    for row in result["rows"]:
        auto, meg = row.get("auto"), row.get("megatron", {})
        if auto is None:
            problems.append(f"{row['model']}: the auto plan failed: {row.get('auto_error')}")
            continue
        if meg.get("candidates", 0) == 0 or meg.get("failed", 1) != 0 or not meg.get("priced"):
            problems.append(f"{row['model']}: candidates {meg.get('candidates')}, priced "
                            f"{meg.get('priced')}, crashed {meg.get('failed')}: "
                            f"{meg.get('first_failures')}")
        results = meg.get("results", [])
        if len(results) != meg.get("candidates"):
            problems.append(f"{row['model']}: {len(results)} results for "
                            f"{meg.get('candidates')} candidates")
        fitting = [r["step"] for r in results if r.get("priced") and r.get("fits")]
        if fitting and meg.get("best", {}).get("step") != min(fitting):
            problems.append(f"{row['model']}: best {meg.get('best')} is not the fastest that "
                            f"fits ({min(fitting)})")
        if "best" in meg and auto["fits"]:
            expected = round(auto["step"] / meg["best"]["step"], 4)
            if row.get("auto_over_best") != expected:
                problems.append(f"{row['model']}: auto / best {row.get('auto_over_best')} "
                                f"!= {expected}")
        if not 0 < row.get("auto_mfu", 0) < 1:
            problems.append(f"{row['model']}: MFU {row.get('auto_mfu')} outside (0, 1)")
    for p in problems:
        print("smoke: " + p, file=sys.stderr)
    return 1 if problems else 0


# --------------------------------------------------------------------------
# The older comparison (--suite grid): auto plan against the best dp x tp
# grid plan, fp32, --batch 64 (docs/benchmarks.md, 2026-11-27).
# --------------------------------------------------------------------------

GRID_CONFIGS = [  # (label, gen_gpt preset, layers)
    ("125M", "gpt2-124m", 12),
    ("1.3B", "gpt3-1.3b", 24),
    ("13B", "gpt3-13b", 40),
    ("39B", "gpt-39b", 48),
]


def run_grid_suite(args):
    os.makedirs(args.workdir, exist_ok=True)
    wanted = (args.models or ",".join(c[0] for c in GRID_CONFIGS)).split(",")
    rows = []
    for label, preset, layers in GRID_CONFIGS:
        if label not in wanted:
            continue
        model = ensure_model(args.workdir, preset, ["--batch", str(args.batch)])
        for devices in map(int, args.devices.split(",")):
            cluster = f"h100-sxm-8x{max(1, devices // 8)}"
            auto, auto_seconds, _, auto_error = cleave_plan(
                args.binary, model, ["--devices", str(devices), "--cluster", cluster],
                args.precision, args.timeout)
            best = None
            for tp in (1, 2, 4, 8):
                if devices % tp:
                    continue
                for zero in (0, 3):
                    # Without --devices the grid plan is exactly what it pins.
                    extra = ["--cluster", cluster, "--grid", f"dp={devices // tp},tp={tp}",
                             "--zero", str(zero)]
                    if tp > 1:
                        for pin in megatron_pins(layers):
                            extra += ["--shard", pin]
                    report, _, _, _ = cleave_plan(args.binary, model, extra, args.precision,
                                                  args.timeout)
                    if report is None:
                        continue
                    # The fastest plan that fits; when none fits, the one
                    # that needs the least memory (as the search does).
                    fits = report["memory_per_device"]["fits"]
                    key = (not fits, report["step_seconds"]["total"] if fits
                           else report["memory_per_device"]["total"])
                    if best is None or key < best[0]:
                        best = (key, f"dp={devices // tp},tp={tp},zero={zero}", report)
            row = {"model": label, "devices": devices, "cluster": cluster,
                   "planning_seconds": round(auto_seconds, 2)}
            if auto is not None:
                row.update(auto_plan=auto["grid"]["spec"], auto_step=auto["step_seconds"]["total"],
                           auto_fits=auto["memory_per_device"]["fits"],
                           auto_gib=round(auto["memory_per_device"]["total"] / GIB, 1))
            else:
                row.update(auto_plan="error: " + auto_error)
            if best is not None:
                row.update(grid_best=best[1], grid_step=best[2]["step_seconds"]["total"],
                           grid_fits=best[2]["memory_per_device"]["fits"],
                           grid_gib=round(best[2]["memory_per_device"]["total"] / GIB, 1))
            if auto is not None and best is not None:
                if row["auto_fits"] and row["grid_fits"]:
                    row["auto_over_grid"] = round(row["auto_step"] / row["grid_step"], 3)
                elif row["auto_fits"]:
                    row["auto_over_grid"] = "only auto fits"
                elif row["grid_fits"]:
                    row["auto_over_grid"] = "only the grid fits"
                else:
                    row["auto_over_grid"] = "neither fits (memory auto / grid %.2f)" % (
                        row["auto_gib"] / row["grid_gib"])
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| model | devices | planning (s) | auto plan | auto step (s) | GiB/device | best grid plan | "
          "grid step (s) | GiB/device | auto / grid |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    yes = {True: "", False: " (does not fit)", None: ""}
    for r in rows:
        print(f"| {r['model']} | {r['devices']} | {r['planning_seconds']} | {r.get('auto_plan')} | "
              f"{r.get('auto_step', float('nan')):.3f} | {r.get('auto_gib')}{yes[r.get('auto_fits')]} | "
              f"{r.get('grid_best')} | {r.get('grid_step', float('nan')):.3f} | "
              f"{r.get('grid_gib')}{yes[r.get('grid_fits')]} | {r.get('auto_over_grid')} |")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--cleave-plan", help="the binary (default: <build>/bin/cleave-plan)")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench-planner"))
    parser.add_argument("--suite", choices=("alpa", "grid"), default="alpa")
    parser.add_argument("--models", help="labels to run, e.g. 1.3B,39B (default: all)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default=None,
                        help="default bf16 for the Alpa suite, fp32 for the grid suite")
    parser.add_argument("--jobs", type=int, default=1,
                        help="candidates priced at once (the machine has 2 cores)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cleave-plan run")
    parser.add_argument("--megatron-pricing", choices=tuple(PINNED), default="each",
                        help="each: one cleave-plan per candidate, every pin given; micro: one "
                             "per (pp, dp, tp, M), the search pricing recompute x ZeRO and "
                             "listing them (needs the configuration search); grid: one per "
                             "(pp, dp, tp), the search choosing the rest under its own limits "
                             "(not an independent check)")
    parser.add_argument("--no-megatron", action="store_true",
                        help="time the auto plans only (no enumeration)")
    parser.add_argument("--smoke", action="store_true",
                        help="a 2-layer GPT on 4 devices, the whole enumeration: seconds")
    parser.add_argument("--no-cache", action="store_true",
                        help="price every candidate again (the cache is still written)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless every model gets a plan that fits, within its "
                             "planning limit, at least as fast as the best Megatron plan")
    parser.add_argument("--json", help="where the results go (default: under --workdir)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--devices", default="8,64", help="--suite grid only")
    parser.add_argument("--batch", type=int, default=64, help="--suite grid only")
    args = parser.parse_args()
    if args.precision is None:
        args.precision = "fp32" if args.suite == "grid" else "bf16"
    args.binary = os.path.abspath(args.cleave_plan or os.path.join(args.build, "bin",
                                                                   "cleave-plan"))
    args.workdir = os.path.abspath(args.workdir)
    if not os.path.exists(args.binary):
        parser.error(f"no {args.binary}: build cleave-plan, or pass --build / --cleave-plan")
    return run_grid_suite(args) if args.suite == "grid" else run_alpa_suite(args)


if __name__ == "__main__":
    sys.exit(main())
