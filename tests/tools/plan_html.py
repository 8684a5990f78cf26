#!/usr/bin/python3
"""cleave-plan --format html, opened in a real browser (Debian's chromium, headless).

For (a) a pipelined plan of the toy GPT (pp=2,dp=2, 4 micro-batches, CPU profile) and
(b) the same plan with --compare dp=4, the page is written, loaded by chromium
(--dump-dom: the DOM after parsing) and screenshotted (1400x2000). Checks:

- the DOM has the sections (#grid, #timeline, #memory, #collectives; #compare with
  #chosen and #alternative columns, each with its sections);
- the Gantt chart has stages x micro-batches forward bars and as many backward bars,
  one send and one receive per transfer the JSON timeline lists, one memory bar per
  stage; the numbers come from the plan's JSON, so both formats agree;
- the page fetches nothing: no http(s) URL, no src=, no href= other than #anchors
  or data: (checked on the file, which is what a browser would load);
- the screenshot rendered the chart: it has pixels of the forward and backward
  colours (with PIL), else at least a non-trivial PNG.

The screenshots stay under the work directory (printed) as the test's artifacts.
Exits 77 (skipped) when chromium is not installed (scripts/setup installs it).
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
FORWARD_RGB = (0x4E, 0x79, 0xA7)
BACKWARD_RGB = (0xF2, 0x8E, 0x2B)


class Elements(html.parser.HTMLParser):
    """Every start tag with its attributes, and the stack of enclosing ids."""

    def __init__(self):
        super().__init__()
        self.elements = []  # (tag, attrs, enclosing ids)
        self.stack = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, [i for _, i in self.stack if i]))
        if tag not in ("meta", "br", "img", "input", "link", "line", "rect", "path"):
            self.stack.append((tag, attrs.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), [i for _, i in self.stack if i]))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    if result.returncode != 0:
        fail("%s exited %d:\n%s%s" % (" ".join(command), result.returncode, result.stdout,
                                       result.stderr))
    return result.stdout


def chromium(browser, workdir, page, screenshot):
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--user-data-dir=" + os.path.join(workdir, "chromium-profile")]
    url = "file://" + os.path.abspath(page)
    dom = run(common + ["--dump-dom", url])
    run(common + ["--screenshot=" + screenshot, "--window-size=1400,2000", url])
    if not os.path.exists(screenshot) or os.path.getsize(screenshot) < 10000:
        fail("chromium wrote no screenshot (or an empty one) at " + screenshot)
    return dom


def check_offline(page):
    text = open(page, encoding="utf-8").read()
    for pattern in (r"https?:", r"\bsrc\s*=", r"<script", r"<link", r"@import"):
        if re.search(pattern, text, re.IGNORECASE):
            fail("%s references the network or a resource (%s)" % (page, pattern))
    for target in re.findall(r"\bhref\s*=\s*[\"']?([^\"' >]*)", text, re.IGNORECASE):
        if not (target.startswith("#") or target.startswith("data:")):
            fail("%s links to %s" % (page, target))
    for target in re.findall(r"url\(([^)]*)\)", text):
        if not (target.strip("'\" ").startswith("#") or target.strip("'\" ").startswith("data:")):
            fail("%s loads %s" % (page, target))


def check_pixels(screenshot):
    try:
        from PIL import Image
    except ImportError:
        print("note: PIL is not installed; the screenshot's colours are not checked")
        return
    image = Image.open(screenshot).convert("RGB")
    colours = set(image.getdata())
    for name, rgb in (("forward", FORWARD_RGB), ("backward", BACKWARD_RGB)):
        if rgb not in colours:
            fail("the screenshot %s has no %s bar (colour #%02x%02x%02x): the chart did not render"
                 % ((screenshot, name) + rgb))


def bars(elements, kind, within=None):
    return [a for tag, a, ids in elements
            if tag == "rect" and a.get("data-kind") == kind and (within is None or within in ids)]


def check_plan(elements, plan, prefix, column=None):
    """The sections of one plan and its bars, against its JSON."""
    ids = {a.get("id") for _, a, _ in elements}
    for section in ("grid", "timeline", "memory", "collectives"):
        if prefix + section not in ids:
            fail("no #%s%s section in the DOM" % (prefix, section))
    pipeline = plan.get("pipeline")
    within = column
    if pipeline:
        stages, micro_batches = pipeline["stages"], pipeline["micro_batches"]
        chunks = stages * pipeline["virtual_stages"]
        timeline = pipeline["timeline"]
        expected = {
            "forward": chunks * micro_batches,
            "backward": chunks * micro_batches,
            "send": sum(1 for e in timeline if e["kind"] == "send"),
            "recv": sum(1 for e in timeline if e["kind"] == "recv"),
        }
        if expected["send"] != 2 * (chunks - 1) * micro_batches:
            fail("the JSON timeline has %d sends, not 2 x %d cuts x %d micro-batches"
                 % (expected["send"], chunks - 1, micro_batches))
        for kind, count in expected.items():
            found = len(bars(elements, kind, within))
            if found != count:
                fail("%d %s bars in the Gantt chart, expected %d" % (found, kind, count))
        for stage in range(stages):
            if not any(a.get("data-stage") == str(stage) and a.get("data-kind") == "forward"
                       for a in bars(elements, "forward", within)):
                fail("stage %d has no forward bar" % stage)
        memory_rows = [a for tag, a, ids in elements if tag == "g" and
                       "memory-bar" in a.get("class", "").split() and
                       (within is None or within in ids)]
        if len(memory_rows) != stages:
            fail("%d memory bars, expected one per stage (%d)" % (len(memory_rows), stages))
        print("  %s%d stages x %d micro-batches: %d forward, %d backward, %d send, %d receive "
              "bars; %d memory bars" % (prefix.replace("-", ": "), stages, micro_batches, expected["forward"],
                                        expected["backward"], expected["send"], expected["recv"],
                                        len(memory_rows)))
    else:
        if len(bars(elements, "compute", within)) != 1:
            fail("a plan without a pipeline has one compute bar")
    parts = plan["memory_per_device"]["parts"]
    if sum(parts.values()) != plan["memory_per_device"]["total"]:
        fail("the memory parts do not sum to the total: %s" % parts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cleave-plan", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("SKIP: chromium is not installed (scripts/setup installs it): the HTML plan is "
              "not checked in a browser")
        return SKIP
    os.makedirs(args.workdir, exist_ok=True)
    plan = [args.cleave_plan, os.path.join(args.models, "gpt_toy_dynamic.onnx"), "--batch-size",
            "8", "--loss", "cross_entropy", "--labels", "y", "--optimizer", "adamw", "--target",
            "cpu", "--grid", "pp=2,dp=2", "--micro-batches", "4"]
    cases = [("plan", []), ("compare", ["--compare", "dp=4"])]
    for name, extra in cases:
        page = os.path.join(args.workdir, name + ".html")
        screenshot = os.path.join(args.workdir, name + ".png")
        with open(page, "w", encoding="utf-8") as out:
            out.write(run(plan + extra + ["--format", "html"]))
        report = json.loads(run(plan + extra + ["--format", "json"]))
        check_offline(page)
        dom = chromium(browser, args.workdir, page, screenshot)
        parser_ = Elements()
        parser_.feed(dom)
        elements = parser_.elements
        print("%s: %s" % (name, " ".join(plan[1:] + extra)))
        if name == "plan":
            check_plan(elements, report, "")
        else:
            ids = {a.get("id") for _, a, _ in elements}
            for required in ("compare", "chosen", "alternative"):
                if required not in ids:
                    fail("no #%s in the comparison's DOM" % required)
            check_plan(elements, report["chosen"], "chosen-", "chosen")
            check_plan(elements, report["alternative"], "alternative-", "alternative")
        check_pixels(screenshot)
        print("  screenshot: " + os.path.abspath(screenshot))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
