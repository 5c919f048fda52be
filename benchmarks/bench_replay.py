"""How big and how slow the explorer's replay is (what a reader without a kernel gets,
``gdviz/explorer/offline.py``): for each notebook's explorer call, the CPU seconds the
companion output adds to displaying the explorer, and its bytes.

    python benchmarks/bench_replay.py             # prints the numbers as JSON

CPU time (``time.process_time``), the best of three: the machine may be shared. "first" is a
first display (every "diverged at step k" note drawn), "again" a display with the notes drawn
before (a re-run cell; nbval's second run of a notebook in the same kernel).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_explorer_latency import EXPLORERS  # noqa: E402

import gdviz.replay as replay_module  # noqa: E402
from gdviz.explorer import explore  # noqa: E402
from gdviz.explorer.offline import companion_html  # noqa: E402

#: The explorer of each notebook, as the notebook calls it (bench_explorer_latency's list, plus 07).
NOTEBOOK_EXPLORERS = {**EXPLORERS, "07": ((["SGD", "Momentum", "Adam"], "elongated_bowl"), {"steps": 30})}


def measure(args, kwargs, repeats: int = 3) -> dict:
    """CPU seconds of the companion: its first display ("cold": no note sprite drawn yet) and a
    display again (a re-run cell, nbval's second run: the notes are reused), and its bytes."""
    explorer = explore(*args, **kwargs)
    try:
        cold, warm = [], []
        for _ in range(repeats):
            replay_module._NOTE_SPRITES.clear()
            start = time.process_time()
            companion_html(explorer)
            cold.append(time.process_time() - start)
            start = time.process_time()
            page = companion_html(explorer)
            warm.append(time.process_time() - start)
        return {"cpu_seconds_first": round(min(cold), 3), "cpu_seconds_again": round(min(warm), 3),
                "bytes": len(page.encode()), "still_bytes": len(explorer.offline_html().encode())}
    finally:
        explorer.close()


def main() -> dict:
    companion_html(explore("SGD", steps=5))          # imports and font caches, not measured
    result = {name: measure(*call) for name, call in NOTEBOOK_EXPLORERS.items()}
    return {"companion_per_notebook": result,
            "max_cpu_seconds_first": max(r["cpu_seconds_first"] for r in result.values()),
            "max_cpu_seconds_again": max(r["cpu_seconds_again"] for r in result.values()),
            "max_bytes": max(r["bytes"] for r in result.values())}


if __name__ == "__main__":
    print(json.dumps(main()))
