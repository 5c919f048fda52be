"""Memory kept by closed explorers: make and close N explorers, report the growth. Prints ONE
JSON object.

    python benchmarks/bench_explorer_memory.py [--explorers 30]

"rss_growth_mb" is the process' resident memory after N explorers minus before (the
allocator keeps some freed pages, so a few tens of MB that stop growing are not a leak;
"rss_growth_mb_2n" after 2N shows whether it keeps growing). "traced_growth_mb" is what
tracemalloc still finds allocated (Python objects and numpy arrays) after N more.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gdviz.explorer import explore  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def make_and_close(n: int) -> None:
    for _ in range(n):
        explore("SGD").close()
    gc.collect()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--explorers", type=int, default=30)
    n = parser.parse_args(argv).explorers
    make_and_close(2)                       # fonts, caches, first-use allocations
    before = rss_mb()
    make_and_close(n)
    after = rss_mb()
    make_and_close(n)
    after_2n = rss_mb()
    tracemalloc.start()
    snapshot = tracemalloc.take_snapshot()
    make_and_close(n)
    traced = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snapshot, "filename"))
    result = {"explorers": n, "rss_growth_mb": round(after - before, 1),
              "rss_growth_mb_2n": round(after_2n - before, 1),
              "traced_growth_mb": round(traced / 1e6, 2), "load_average": os.getloadavg()[0]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
