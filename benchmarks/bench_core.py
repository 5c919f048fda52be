"""How fast the core sweeps: one vectorized run of a whole grid against the same
configurations run one at a time through :func:`gdviz.run`. Prints ONE JSON object.

    python benchmarks/bench_core.py [--n-lr 200] [--n-momentum 200] [--steps 200]

Momentum on the elongated bowl over η (log-spaced over the explorer's slider, 1e-3 to 3) × α
(0 to 0.99): 200 × 200 = 40,000 configurations, 200 steps each. The loop times a random
sample of the same grid (at least 200 configurations) in the same process. Both timings are
the best of ``repeats`` runs. Targets: the sweep in at most 1 s, and at least 50 times
faster per configuration than the loop.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import gdviz  # noqa: E402

OPTIMIZER, SURFACE = "Momentum", "elongated_bowl"
TARGET_SWEEP_SECONDS, TARGET_SPEEDUP = 1.0, 50.0


def best_time(action, repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``action()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n_lr: int = 200, n_momentum: int = 200, steps: int = 200, loop_sample: int = 200,
         repeats: int = 3, seed: int = 0) -> dict:
    """Time the sweep and the loop; return the report (what the command line prints)."""
    lr = np.geomspace(1e-3, 3.0, n_lr)
    momentum = np.linspace(0.0, 0.99, n_momentum)
    configs = n_lr * n_momentum

    def run_sweep():
        return gdviz.sweep(OPTIMIZER, SURFACE, steps=steps, lr=lr, momentum=momentum)

    result = run_sweep()                                    # warm up, and keep the outcome
    sweep_seconds = best_time(run_sweep, repeats)

    rng = np.random.default_rng(seed)
    sample = rng.choice(configs, size=min(loop_sample, configs), replace=False)
    chosen = [(float(lr[i // n_momentum]), float(momentum[i % n_momentum])) for i in sample]
    steps_taken = []

    def run_loop():
        steps_taken.clear()
        for eta, alpha in chosen:
            traj = gdviz.run(OPTIMIZER, SURFACE, steps=steps, lr=eta, momentum=alpha)
            steps_taken.append(traj.n_steps)

    loop_seconds = best_time(run_loop, repeats)
    loop_per_config = loop_seconds / len(chosen)
    sweep_per_config = sweep_seconds / configs
    return {
        "benchmark": "core sweep vs one run per configuration",
        "optimizer": OPTIMIZER,
        "surface": SURFACE,
        "sweep_configs": configs,
        "sweep_steps": steps,
        "sweep_seconds": float(sweep_seconds),
        "sweep_seconds_per_config": float(sweep_per_config),
        "sweep_diverged_fraction": float(result.diverged.mean()),
        "loop_configs_timed": len(chosen),
        "loop_mean_steps": float(np.mean(steps_taken)),
        "loop_seconds_per_config": float(loop_per_config),
        "speedup": float(loop_per_config / sweep_per_config),
        "repeats": repeats,
        "timing": "best of repeats, time.perf_counter",
        "target_sweep_seconds": TARGET_SWEEP_SECONDS,
        "target_speedup": TARGET_SPEEDUP,
        "meets_targets": bool(sweep_seconds <= TARGET_SWEEP_SECONDS
                              and loop_per_config / sweep_per_config >= TARGET_SPEEDUP),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-lr", type=int, default=200)
    parser.add_argument("--n-momentum", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--loop-sample", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(main(args.n_lr, args.n_momentum, args.steps, args.loop_sample, args.repeats),
                     indent=2))
