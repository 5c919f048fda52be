"""How long each notebook takes to run under nbval. Prints ONE JSON object.

    python benchmarks/bench_notebooks.py [--twice] [notebooks/01_gradient_descent.ipynb ...]

Runs every notebook in notebooks/ (or the ones given) the way the test suite does,
``pytest --nbval-lax --nbval-current-env``, one pytest process per notebook, and reads the
time of every cell from pytest's JUnit XML report. A notebook's time is the sum over its
cells, including starting its fresh kernel (the setup of its first cell): what a student
waits for after "Run all". Its CPU time is that of its pytest process and kernel together
(steadier than wall time on a busy machine). By default each notebook runs once
(``--nbval-once``); ``--twice`` times the test suite's mode, a second run in the same kernel
included.

Output: ``{"01_gradient_descent.ipynb": seconds, ..., "cpu_seconds_per_notebook": {...},
"total_seconds": ..., "wall_seconds": ..., "cpu_seconds": ..., "target_total_seconds": 90,
"within_target": true, "failed": []}``. Target: all notebooks together in at most 90 s, each
in about 12 s. Exits 1 if a cell failed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

try:
    import resource          # Unix only: CPU time of pytest and the kernels
except ImportError:
    resource = None

ROOT = Path(__file__).resolve().parents[1]
TARGET_TOTAL_SECONDS = 90.0


def notebook_of(case: ET.Element) -> str:
    """The notebook file a JUnit test case (one cell) belongs to (xunit1 records its file)."""
    return Path(case.get("file", "unknown")).name


def _children_cpu() -> float:
    if resource is None:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--twice", action="store_true",
                        help="include the second run in the same kernel (the test suite's mode)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print(json.dumps({"error": "no notebooks found"}))
        return 1

    seconds, cpu_each, failed, wall, cpu, errors = defaultdict(float), {}, [], 0.0, 0.0, []
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "junit.xml"
            cmd = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                   "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
                   "-o", "junit_family=xunit1",              # xunit1 records each case's file
                   *([] if args.twice else ["--nbval-once"]),
                   str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)]
            start = time.perf_counter()
            cpu_before = _children_cpu()
            completed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall += time.perf_counter() - start
            cpu_each[path.name] = _children_cpu() - cpu_before
            cpu += cpu_each[path.name]
            if not report.exists():
                sys.stderr.write(completed.stdout + completed.stderr)
                print(json.dumps({"error": f"pytest wrote no report for {path.name} "
                                           f"(exit code {completed.returncode})"}))
                return 1
            for case in ET.parse(report).getroot().iter("testcase"):
                name = notebook_of(case)
                seconds[name] += float(case.get("time", 0.0))
                if case.find("failure") is not None or case.find("error") is not None:
                    failed.append(f"{name}::{case.get('name')}")
            if completed.returncode != 0:
                errors.append(completed.stdout[-3000:] + completed.stderr[-3000:])

    result = {name: round(seconds[name], 2) for name in sorted(seconds)}
    total = sum(seconds.values())
    result.update({
        "cpu_seconds_per_notebook": {name: round(cpu_each[name], 2) for name in sorted(cpu_each)}
                                    if resource else None,
        "total_seconds": round(total, 2),
        "wall_seconds": round(wall, 2),
        # pytest and the kernels: steadier than wall time on a busy machine
        "cpu_seconds": round(cpu, 2) if resource else None,
        "mode": "twice in one kernel" if args.twice else "once, fresh kernel",
        "target_total_seconds": TARGET_TOTAL_SECONDS,
        "within_target": total <= TARGET_TOTAL_SECONDS * (2 if args.twice else 1),
        "failed": failed,
    })
    print(json.dumps(result, indent=1))
    if errors and not failed:
        sys.stderr.write("\n".join(errors))
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
