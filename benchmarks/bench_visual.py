"""How fast the explorer answers a slider, against rebuilding the figure each time; plus the
animation numbers of ``benchmarks/bench_animation.py``. Prints ONE JSON object.

    python benchmarks/bench_visual.py [--changes 40] [--notebooks-only]

"update" = one learning-rate slider change in :mod:`gdviz.explorer` (SGD, 100 steps): the
run, the redraw and the image bytes the widget receives. "naive" = what a simple
implementation does per change: a new (pyplot-free) figure with the contours, the path and
the loss curve, saved as PNG with ``bbox_inches="tight"``. Both are timed alternately in the
same process, on the same settings.

"notebooks" = the explorers of notebooks 01–06 as the notebooks build them: per η-slider
change of the first optimizer, the kernel's CPU milliseconds (median), split into the runs,
the redraw (``ExplorerFigure.draw``: the scene described and drawn over the kept
background) and the PNG encoding.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import gdviz  # noqa: E402
from gdviz import plotting  # noqa: E402
from gdviz.explorer import explore, stability_explorer  # noqa: E402

ANIMATION_KEYS = ("animation_frames", "animation_bytes", "animation_seconds",
                  "stock_jshtml_bytes", "stock_jshtml_seconds")


def naive_render(lr: float, steps: int) -> bytes:
    """Build the explorer's picture from scratch and encode it, as a naive explorer would."""
    traj = gdviz.run("SGD", "elongated_bowl", steps=steps, lr=lr)
    with plotting.style("notebook"):
        fig = Figure(figsize=(9.6, 4.0), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax, lax = fig.subplots(1, 2, width_ratios=[1.6, 1])
        plotting.plot_contour(traj.surface, ax)
        plotting.plot_trajectory(traj, ax, contour=False)
        plotting.plot_loss([traj], lax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def measure_updates(changes: int = 40, steps: int = 100) -> dict:
    explorer = explore("SGD", steps=steps)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    values = [float(v) for v in np.geomspace(0.01, 0.9, changes)]
    update_ms, naive_ms, image_bytes, naive_bytes = [], [], [], []
    update_cpu, naive_cpu = [], []        # CPU time: steady when the machine is shared
    naive_render(0.1, steps)                       # warm caches (fonts, contour code)
    for value in values:
        cpu = time.process_time()
        update_ms += timed_moves(slider, [float(value)])     # the observer runs update()
        update_cpu.append((time.process_time() - cpu) * 1e3)
        image_bytes.append(len(explorer.image.value))
        start, cpu = time.perf_counter(), time.process_time()
        naive_bytes.append(len(naive_render(value, steps)))
        naive_ms.append((time.perf_counter() - start) * 1e3)
        naive_cpu.append((time.process_time() - cpu) * 1e3)
    background_draws = explorer.n_background_draws
    full_png = len(explorer.render_png())
    step_ms = timed_moves(explorer.step_slider, range(steps - 1, steps - changes - 1, -1))
    explorer.close()
    several = explore(["SGD", "Momentum", "Adam"], steps=steps)
    several_ms = timed_moves(several.hyperparameter_sliders["Momentum"]["lr"], values)
    several.close()
    update, naive = statistics.median(update_ms), statistics.median(naive_ms)
    return {
        "changes": changes, "steps": steps,
        "update_ms_median": round(update, 2),
        "update_ms_max": round(max(update_ms), 2),
        "naive_update_ms_median": round(naive, 2),
        "update_speedup": round(naive / update, 2),
        "update_cpu_ms_median": round(statistics.median(update_cpu), 2),
        "naive_update_cpu_ms_median": round(statistics.median(naive_cpu), 2),
        "image_bytes": int(statistics.median(image_bytes)),
        "image_format": "png, 256 colours",
        "full_colour_png_bytes": full_png,
        "naive_image_bytes": int(statistics.median(naive_bytes)),
        "background_draws": background_draws,
        "play_step_ms_median": round(statistics.median(step_ms), 2),
        "three_optimizers_update_ms_median": round(statistics.median(several_ms), 2),
    }


#: The explorers of notebooks 01–06, as their cells build them (projector off).
NOTEBOOK_EXPLORERS = {
    "01": (explore, ("SGD", "elongated_bowl"), dict(steps=40, lr=0.95)),
    "02": (explore, (["Momentum", "Nesterov"], "elongated_bowl"), dict(steps=60, lr=0.1, momentum=0.9)),
    "02_map": (stability_explorer, ("Momentum", "elongated_bowl"), dict(steps=100, lr=0.1, momentum=0.9)),
    "03": (explore, (["SGD", "AdaGrad"], "elongated_bowl"), dict(steps=30)),
    "04": (explore, (["AdaGrad", "RMSprop"], "elongated_bowl"), dict(steps=200, lr=0.03)),
    "05": (explore, (["Adam", "AdamW"], "himmelblau"), dict(steps=200, lr=0.1)),
    "06": (explore, (["SGD", "Momentum", "Adam"], "saddle"), dict(steps=60, lr=0.1)),
}


def measure_notebook_explorers(changes: int = 20) -> dict:
    """CPU ms per η change in each notebook's explorer: total, and runs / draw / encode."""
    out = {}
    for key, (make, args, kwargs) in NOTEBOOK_EXPLORERS.items():
        explorer = make(*args, **kwargs)
        view, parts = explorer.view, {"draw": [], "encode": []}
        for name in parts:            # time the figure's two halves from inside
            method = getattr(view, name)

            def timed(*a, _method=method, _times=parts[name], **k):
                cpu = time.process_time()
                result = _method(*a, **k)
                _times.append((time.process_time() - cpu) * 1e3)
                return result
            setattr(view, name, timed)
        slider = explorer.hyperparameter_sliders[explorer.optimizers[0]]["lr"]
        grid, start = list(slider.options), slider.index
        total = []
        for i in range(changes + 2):          # back and forth around the notebook's η
            explorer.cache.clear()            # each change drawn (not a picture kept before)
            cpu = time.process_time()
            slider.index = (start + (1 if i % 2 == 0 else -1) * (1 + i % 3)) % len(grid)
            total.append((time.process_time() - cpu) * 1e3)      # the observer re-ran and redrew
        total, draw, encode = (statistics.median(v[2:]) for v in (total, parts["draw"], parts["encode"]))
        out[key] = {"cpu_ms": round(total, 2), "draw_cpu_ms": round(draw, 2),
                    "encode_cpu_ms": round(encode, 2),
                    "run_and_rest_cpu_ms": round(total - draw - encode, 2)}
        explorer.close()
    return out


def timed_moves(slider, values) -> list[float]:
    """Milliseconds for each ``slider.value = v`` (its observer redraws the explorer)."""
    times = []
    for value in values:
        start = time.perf_counter()
        slider.value = value
        times.append((time.perf_counter() - start) * 1e3)
    return times


def measure_animation_numbers() -> dict:
    try:
        try:
            from benchmarks.bench_animation import measure_animation
        except ImportError:
            from bench_animation import measure_animation
    except ImportError as exc:
        return {"animation_missing": list(ANIMATION_KEYS), "animation_error": str(exc)}
    result = measure_animation(frames=60)
    missing = [key for key in ANIMATION_KEYS if key not in result]
    if missing:
        result["animation_missing"] = missing
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=40, help="slider changes to time")
    parser.add_argument("--no-animation", action="store_true", help="skip the animation numbers")
    parser.add_argument("--notebooks-only", action="store_true",
                        help="only the notebooks' explorers (CPU per η change)")
    args = parser.parse_args(argv)
    if args.notebooks_only:
        result = {"notebooks": measure_notebook_explorers()}
        print(json.dumps(result))
        return result
    result = measure_updates(args.changes)
    result["notebooks"] = measure_notebook_explorers()
    if not args.no_animation:
        result.update(measure_animation_numbers())
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
