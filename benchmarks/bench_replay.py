"""How big and how slow the explorer's replay is (what a reader without a kernel gets,
``gdviz/explorer/offline.py``): for each notebook's explorer call, the CPU seconds the
companion output adds to displaying the explorer, and its bytes.

    python benchmarks/bench_replay.py             # prints the numbers as JSON

CPU time (``time.process_time``), the best of three: the machine may be shared.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_explorer_latency import EXPLORERS  # noqa: E402

from gdviz.explorer import explore  # noqa: E402
from gdviz.explorer.offline import companion_html  # noqa: E402

#: The explorer of each notebook, as the notebook calls it (bench_explorer_latency's list, plus 07).
NOTEBOOK_EXPLORERS = {**EXPLORERS, "07": ((["SGD", "Momentum", "Adam"], "elongated_bowl"), {"steps": 30})}


def measure(args, kwargs, repeats: int = 3) -> dict:
    explorer = explore(*args, **kwargs)
    try:
        seconds = []
        for _ in range(repeats):
            start = time.process_time()
            page = companion_html(explorer)
            seconds.append(time.process_time() - start)
        return {"cpu_seconds": round(min(seconds), 3), "bytes": len(page.encode()),
                "still_bytes": len(explorer.offline_html().encode())}
    finally:
        explorer.close()


def main() -> dict:
    companion_html(explore("SGD", steps=5))          # imports and font caches, not measured
    result = {name: measure(*call) for name, call in NOTEBOOK_EXPLORERS.items()}
    return {"companion_per_notebook": result,
            "max_cpu_seconds": max(r["cpu_seconds"] for r in result.values()),
            "max_bytes": max(r["bytes"] for r in result.values())}


if __name__ == "__main__":
    print(json.dumps(main()))
