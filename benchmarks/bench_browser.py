"""User-visible η-slider latency in real JupyterLab (headless Chromium). Prints ONE JSON object.

    python benchmarks/bench_browser.py [-k 01_] [--skip-self-tests]

Runs the browser tests (tests/browser, marker ``browser``): every notebook is opened in
JupyterLab, run, and its explorer's η slider is moved 12 times with the arrow keys and
dragged 8 times with the mouse; the time from each in-page key press to the new figure having
loaded, and from each mouse release to the new figure painted, is recorded. The pytest output
goes to stderr; stdout gets the contents of artifacts/browser_latency.json (median_ms over
all notebooks' moves, per-notebook medians, the harness floor, per-notebook seconds).
Target: median at most 100 ms. Exits non-zero if the tests failed or nothing was measured.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import jlab_harness  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="keyword", default=None,
                        help="pytest -k expression, e.g. 01_ for one notebook")
    parser.add_argument("--skip-self-tests", action="store_true",
                        help="leave out the harness's own fixture tests (no floor number)")
    args = parser.parse_args(argv)

    keyword = args.keyword
    if args.skip_self_tests:
        keyword = f"({keyword}) and not harness" if keyword else "not harness"
    cmd = [sys.executable, "-m", "pytest", "tests/browser", "-m", "browser", "-q", "-s",
           "-p", "no:cacheprovider"]
    if keyword:
        cmd += ["-k", keyword]
    jlab_harness.LATENCY_JSON.unlink(missing_ok=True)
    # full latency samples (12 key presses, 8 drags per notebook); the suite takes a few
    env = dict(os.environ, GDVIZ_BROWSER_SAMPLES="full")
    code = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr, stderr=sys.stderr, env=env).returncode
    if not jlab_harness.LATENCY_JSON.exists():
        print(json.dumps({"error": f"nothing measured (pytest exit code {code})"}))
        return code or 1
    data = json.loads(jlab_harness.LATENCY_JSON.read_text())
    data["pytest_exit_code"] = code
    print(json.dumps(data))
    return code


if __name__ == "__main__":
    sys.exit(main())
