"""How big and how slow an animation is: gdviz's player and GIF against matplotlib's stock
``FuncAnimation.to_jshtml()``, on the same scene, in the same run.

The scene: a 6×5 in figure at 100 dpi, the contours of the elongated bowl, three runs (SGD,
Momentum, Adam) and the loss panel, one frame per step. The stock animation redraws the whole
figure into one PNG per frame; its embed limit is raised so that it keeps every frame and its
true size is measured.

    python benchmarks/bench_animation.py          # prints the numbers as JSON

``benchmarks/bench_visual.py`` imports :func:`measure_animation`.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import matplotlib

import gdviz
from gdviz import plotting
from gdviz.animation import animate


def scene(frames: int = 60) -> list:
    """The benchmark's runs: ``frames`` − 1 steps each, so one frame per step."""
    steps = frames - 1
    return [gdviz.run("SGD", steps=steps, lr=0.9),
            gdviz.run("Momentum", steps=steps, lr=0.1, momentum=0.9),
            gdviz.run("Adam", steps=steps, lr=0.5)]


def stock_jshtml(trajs, frames: int) -> str:
    """The same picture animated the usual way: FuncAnimation over the full figure."""
    from matplotlib.animation import FuncAnimation
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with plotting.style("notebook"):
        fig = Figure(figsize=(6, 5), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax, loss_ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [2.3, 1]})
        paths = plotting.plot_trajectories(trajs, ax, legend="below")
        ax.set_title(trajs[0].surface.title, loc="left")
        losses = plotting.plot_loss(trajs, loss_ax, legend=False)
        counter = ax.set_title("", loc="right")

        def update(k):
            for traj, path, loss in zip(trajs, paths, losses):
                path.set_data(traj.points[:k + 1, 0], traj.points[:k + 1, 1])
                loss.set_data(range(k + 1), traj.losses[:k + 1] - traj.surface.min_value)
            counter.set_text(f"step {k} / {frames - 1}")
            return [*paths, *losses, counter]

        animation = FuncAnimation(fig, update, frames=frames, interval=100)
        with matplotlib.rc_context({"animation.embed_limit": 1000.0}):   # MB: keep every frame
            return animation.to_jshtml()


def measure_animation(frames: int = 60) -> dict:
    """Bytes and seconds of gdviz's player and GIF, and of the stock to_jshtml, for one scene."""
    trajs = scene(frames)
    with _Clock() as animation_time:
        player = animate(trajs)
        html = player.to_html()
    assert player.n_frames == frames
    with tempfile.TemporaryDirectory() as folder, _Clock() as gif_time:
        gif_bytes = player.save_gif(Path(folder) / "bench.gif").stat().st_size
    with _Clock() as stock_time:
        stock = stock_jshtml(trajs, frames)
    return {
        "animation_frames": player.n_frames,
        "animation_bytes": len(html.encode()),
        "animation_seconds": animation_time.wall,
        "stock_jshtml_frames": stock.count("data:image/png;base64,"),   # every frame kept
        "stock_jshtml_bytes": len(stock.encode()),
        "stock_jshtml_seconds": stock_time.wall,
        "gif_bytes": gif_bytes,
        "gif_seconds": gif_time.wall,
        # CPU seconds of this process: steadier than wall time on a shared machine
        "animation_cpu_seconds": animation_time.cpu,
        "stock_jshtml_cpu_seconds": stock_time.cpu,
        "gif_cpu_seconds": gif_time.cpu,
    }


class _Clock:
    """Wall and CPU seconds of a ``with`` block."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = round(time.perf_counter() - self._wall, 3)
        self.cpu = round(time.process_time() - self._cpu, 3)


if __name__ == "__main__":
    print(json.dumps(measure_animation(), indent=2))
