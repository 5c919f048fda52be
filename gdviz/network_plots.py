"""Figures for notebook 07 (a real network): training curves, η sensitivity, minibatch noise,
the loss landscape on a trajectory's plane, curvature during training, and a curve viewer.

Every function takes the numbers (arrays, dicts of arrays) the notebook computed with
:mod:`gdviz.training` and :mod:`gdviz.landscape`, draws them in the house style (one fixed
colour per optimizer, :func:`gdviz.plotting.optimizer_color`) and returns the figure or axes.
"""
from __future__ import annotations

import io
import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from .plotting import optimizer_color
from .plotting._common import _figsize, _lw, _ms

__all__ = ["plot_digits", "smooth", "plot_loss_curves", "plot_lr_sensitivity", "plot_gradient_noise",
           "plot_landscape", "plot_sharpness", "CurveViewer", "curve_explorer"]

_CONTEXT = "#BBBBBB"      # the other optimizers, behind the one a panel is about


def smooth(values, window: int) -> np.ndarray:
    """A centred moving average along axis 0 (the window shrinks at the ends): minibatch
    losses jump from batch to batch; the average shows the trend."""
    values = np.asarray(values, dtype=float)
    if window <= 1:
        return values
    kernel = np.ones(window)
    flat = values.reshape(len(values), -1)
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        total = np.convolve(flat[:, j], kernel, mode="same")
        count = np.convolve(np.ones(len(flat)), kernel, mode="same")
        out[:, j] = total / count
    return out.reshape(values.shape)


def plot_digits(X, y, count: int = 20, columns: int = 10):
    """The first ``count`` images (rows of X, 8×8 pixels in [0, 1]) side by side, each with its
    label above it: one image, so it draws quickly."""
    rows = math.ceil(count / columns)
    mosaic = np.ones((rows * 11, columns * 10))          # 8×8 images, a 2-pixel gap, a row for labels
    fig, ax = plt.subplots(figsize=_figsize(rows * 11 / (columns * 10)), layout="constrained")
    for i, (image, label) in enumerate(zip(X[:count], y[:count])):
        r, c = divmod(i, columns)
        mosaic[r * 11 + 3:r * 11 + 11, c * 10 + 1:c * 10 + 9] = 1 - np.asarray(image).reshape(8, 8)
        ax.text(c * 10 + 4.5, r * 11 + 1.2, str(label), ha="center", va="center")
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    return fig, ax


def _quiet_log(axis) -> None:
    """Major ticks at powers of ten only, no minor ticks: a grid of small log panels stays
    readable, and matplotlib does not lay out hundreds of minor tick labels it then hides."""
    axis.set_major_locator(mpl.ticker.LogLocator(numticks=5))
    axis.set_minor_locator(mpl.ticker.NullLocator())


def _grid(n: int, columns: int, height_ratio: float):
    """Small multiples on fixed spacing: a constrained layout of a dozen panels measures every
    tick label on every draw, and took a third of the figure's time (0.2 of 0.7 s, measured);
    the notebook's inline display crops the outer margin anyway."""
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, sharex=True, sharey=True, squeeze=False,
                             figsize=_figsize(height_ratio * rows / columns * 1.6, 1.3),
                             gridspec_kw={"left": 0.09, "right": 0.99, "bottom": 0.1, "top": 0.95,
                                          "wspace": 0.08, "hspace": 0.3})
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_loss_curves(curves: dict, window: int = 9, columns: int = 4, per_epoch: int | None = None):
    """Small multiples: one panel per optimizer, its smoothed minibatch loss (the mean over the
    seeds, a band from the lowest to the highest seed) on a log scale, the other optimizers
    in grey behind it. ``curves`` maps a name to an array (iterations, seeds).
    Returns (fig, axes)."""
    names = list(curves)
    fig, axes = _grid(len(names), columns, 0.55)
    smoothed = {name: smooth(curves[name], window) for name in names}
    for ax, name in zip(axes.flat, names):
        for other in names:
            if other != name:
                ax.plot(np.nanmean(smoothed[other], axis=1), color=_CONTEXT, lw=_lw(0.5), zorder=1)
        values = smoothed[name]
        t = np.arange(1, len(values) + 1)
        color = optimizer_color(name)
        ax.fill_between(t, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color,
                        alpha=0.3, lw=0, zorder=2)
        ax.plot(t, np.nanmean(values, axis=1), color=color, lw=_lw(0.9), zorder=3)
        ax.set_title(name, color="black")
        ax.set_yscale("log")
        _quiet_log(ax.yaxis)
    for ax in axes[-1]:
        ax.set_xlabel("iteration" if per_epoch is None else f"iteration ({per_epoch} per epoch)")
    for ax in axes[:, 0]:
        ax.set_ylabel("training loss\n(minibatch, smoothed)")
    return fig, axes


def plot_lr_sensitivity(lrs, final: dict, columns: int = 4, chance: float | None = None):
    """Small multiples: the final training loss against η (log–log) for each optimizer, the
    median over seeds with a band from the lowest to the highest seed; ✕ along the top where a
    seed diverged (NaN); a dot on the best η. ``final`` maps a name to an array (len(lrs), seeds).
    ``chance`` draws the loss of a network that guesses (ln 10 for ten digits). Returns (fig, axes)."""
    lrs = np.asarray(lrs, dtype=float)
    names = list(final)
    fig, axes = _grid(len(names), columns, 0.55)
    finite = np.concatenate([np.ravel(v) for v in final.values()])
    top = finite[np.isfinite(finite)].max() * 3
    for ax, name in zip(axes.flat, names):
        values = np.asarray(final[name], dtype=float)
        color = optimizer_color(name)
        diverged = np.isnan(values).any(axis=1)              # rows with a NaN are not drawn
        low, high = (np.where(diverged, np.nan, f(np.where(diverged[:, None], 1.0, values), axis=1))
                     for f in (np.min, np.max))
        median = np.where(diverged, np.nan, np.median(values, axis=1))
        ax.fill_between(lrs, low, high, color=color, alpha=0.3, lw=0)
        ax.plot(lrs, median, color=color, marker="o", ms=_ms(0.7), lw=_lw(0.9))
        if diverged.any():
            ax.plot(lrs[diverged], np.full(int(diverged.sum()), top), linestyle="none", marker="X",
                    color="black", ms=_ms(1.3), clip_on=False, label="a seed diverged")
        best = int(np.nanargmin(median))
        ax.plot(lrs[best], median[best], marker="o", ms=_ms(2.0), mfc="white", mec=color,
                mew=_lw(0.8), zorder=4)
        if chance is not None:
            ax.axhline(chance, color="#555555", lw=_lw(0.5), ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _quiet_log(ax.xaxis)
        _quiet_log(ax.yaxis)
        ax.set_title(f"{name} (best η = {lrs[best]:.2g})", fontsize="small")    # four fit a row
    for ax in axes[-1]:
        ax.set_xlabel("learning rate η")
    for ax in axes[:, 0]:
        ax.set_ylabel("final training loss")
    handles = [Line2D([], [], ls="none", marker="X", color="black", label="diverged (a seed)")]
    if chance is not None:
        handles.append(Line2D([], [], color="#555555", ls=":", label=f"guessing (ln 10 = {chance:.2f})"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.01), ncols=2)
    return fig, axes


def plot_gradient_noise(batch_sizes, measured, predicted, ax=None):
    """E|g_B − g|² against the batch size B (log–log): measured points and the prediction
    tr(Σ)/B·(n − B)/(n − 1) as a line, with the pure 1/B law dashed. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=_figsize(0.6), layout="constrained")
    B = np.asarray(batch_sizes, dtype=float)
    ax.plot(B, measured, "o", color="black", ms=_ms(1.3), label="measured (random minibatches)", zorder=3)
    ax.plot(B, predicted, color=optimizer_color("SGD"), lw=_lw(1.0),
            label=r"$\mathrm{tr}\,\Sigma / B \cdot (n-B)/(n-1)$")
    ax.plot(B, predicted[0] * B[0] / B, color="#555555", ls="--", lw=_lw(0.7), label=r"$\propto 1/B$")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel("batch size B")
    ax.set_ylabel(r"$E\,|g_B - g|^2$")
    ax.legend()
    return ax


def plot_landscape(a, b, losses, paths: dict, ax=None, explained: float | None = None):
    """Filled log-spaced contours of the loss on a plane (light = low), and each optimizer's
    path projected onto it (start ○, end ●). ``paths`` maps a name to an (n, 2) array of plane
    coordinates. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=_figsize(0.62), layout="constrained")
    losses = np.asarray(losses, dtype=float)
    levels = np.geomspace(np.nanmin(losses), np.nanpercentile(losses, 99), 14)
    cmap = mpl.colors.LinearSegmentedColormap.from_list("light", ["#FFFFFF", "#C9D6E3", "#7E95AD"])
    filled = ax.contourf(a, b, losses, levels=levels, norm=mpl.colors.LogNorm(), cmap=cmap,
                         extend="max")
    ax.contour(a, b, losses, levels=levels, colors="#5A6B7D", linewidths=_lw(0.3))
    ax.figure.colorbar(filled, ax=ax, label="training loss on the plane", format="%.2g",
                       shrink=0.85)
    n = len(paths)
    for i, (name, xy) in enumerate(paths.items()):     # later paths wider and below: overlaps stay visible
        color = optimizer_color(name)
        width = _lw(0.9 + 0.5 * i)
        ax.plot(xy[:, 0], xy[:, 1], color=color, lw=width, label=name, zorder=3 + n - i,
                solid_capstyle="round",
                path_effects=[patheffects.Stroke(linewidth=width + _lw(0.8), foreground="white"),
                              patheffects.Normal()])
        ax.plot(*xy[-1], marker="o", color=color, mec="white", ms=_ms(2.0), zorder=4 + n)
    start = next(iter(paths.values()))[0]
    ax.plot(*start, marker="o", mfc="white", mec="black", ms=_ms(2.0), ls="none", zorder=5 + n,
            label="start (the same for all)")
    ax.set_xlabel("first principal direction")
    ax.set_ylabel("second principal direction")
    if explained is not None:
        ax.set_title(f"the plane holds {explained:.0%} of the paths' variance")
    ax.legend(loc="best")
    return ax


def plot_sharpness(steps, lambdas, lrs, losses, axes=None, labels=None):
    """Full-batch gradient descent at several η: the loss per step (left) and λ_max of the
    Hessian during training (right), each η in its own colour with its limit 2/η dashed.
    ``lambdas`` has shape (len(steps), len(lrs)); ``losses`` (iterations, len(lrs)); ``labels``
    (optional) names each η in the legend. Returns the two axes."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=_figsize(0.42, 1.3), layout="constrained")
    lrs = np.asarray(lrs, dtype=float)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(lrs)))
    for k, (lr, color) in enumerate(zip(lrs, colors)):
        label = f"η = {lr:.3g}" if labels is None else labels[k]
        axes[0].plot(np.arange(1, len(losses) + 1), losses[:, k], color=color, lw=_lw(0.8), label=label)
        axes[1].plot(steps, lambdas[:, k], color=color, lw=_lw(0.9), marker="o", ms=_ms(0.5), label=label)
        axes[1].axhline(2 / lr, color=color, ls="--", lw=_lw(0.6))
    axes[0].set_yscale("log")
    axes[0].set_xlabel("step (full batch)")
    axes[0].set_ylabel("training loss")
    axes[1].set_xlabel("step (full batch)")
    axes[1].set_ylabel(r"$\lambda_{\max}$ of the Hessian")
    axes[1].set_yscale("log")
    axes[1].figure.legend(*axes[1].get_legend_handles_labels(), title=r"dashed: $2/\eta$",
                          loc="outside right upper")
    return axes


class CurveViewer:
    """Pick an optimizer and η, see its training curve: precomputed curves, so every move of
    the controls only redraws two lines (no training), fast enough to follow the slider.

    ``curves`` maps an optimizer name to an array (iterations, len(lrs)) of (smoothed) losses.
    """

    def __init__(self, lrs, curves: dict, per_epoch: int | None = None):
        import ipywidgets as widgets
        self.lrs = np.asarray(lrs, dtype=float)
        self.curves = {name: np.asarray(c, dtype=float) for name, c in curves.items()}
        names = list(self.curves)
        self.optimizer = widgets.Dropdown(options=names, value=names[0], description="optimizer")
        self.lr = widgets.SelectionSlider(options=[(f"{v:.2g}", i) for i, v in enumerate(self.lrs)],
                                          value=len(self.lrs) // 2, description="η",
                                          continuous_update=True)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.fig = Figure(figsize=_figsize(0.5), layout="constrained")
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        self.ax.set_yscale("log")
        self.ax.set_xlabel("iteration" if per_epoch is None else f"iteration ({per_epoch} per epoch)")
        self.ax.set_ylabel("training loss (minibatch, smoothed)")
        finite = np.concatenate([c[np.isfinite(c)] for c in self.curves.values()])
        self.ax.set_ylim(finite.min() * 0.8, finite.max() * 1.5)
        self.ax.set_xlim(1, max(len(c) for c in self.curves.values()))
        (self.others,) = self.ax.plot([], [], color=_CONTEXT, lw=_lw(0.5))
        (self.line,) = self.ax.plot([], [], lw=_lw(1.2))
        self.title = self.ax.set_title("", y=1.0)         # a fixed place: no re-layout per draw
        self._background, self._background_of = None, None
        self.optimizer.observe(self._on_change, names="value")
        self.lr.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.optimizer, self.lr]), self.image])
        self.update()

    def _on_change(self, _change) -> None:
        self.update()

    def update(self) -> None:
        """Draw the chosen curve over the same optimizer's other η (grey) and show it.

        A new optimizer redraws the whole figure once and keeps it as a background without the
        highlighted curve; a new η only pastes that background and draws one line and the
        title on it (blitting), so the slider answers in milliseconds."""
        name, k = self.optimizer.value, self.lr.value
        c = self.curves[name]
        t = np.arange(1, len(c) + 1, dtype=float)
        if name != self._background_of:
            grey_x = np.concatenate([np.append(t, np.nan) for _ in range(c.shape[1])])
            grey_y = np.concatenate([np.append(c[:, j], np.nan) for j in range(c.shape[1])])
            self.others.set_data(grey_x, grey_y)
            if self._background_of is None:            # lay out once, with room for a title
                self.title.set_text(f"{name}, η = 1: final loss 1")
                self.fig.canvas.draw()
                self.fig.set_layout_engine("none")        # the layout is settled: keep it
            self.line.set_visible(False)
            self.title.set_visible(False)
            self.fig.canvas.draw()
            self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
            self._background_of = name
            self.line.set_visible(True)
            self.title.set_visible(True)
        self.fig.canvas.restore_region(self._background)
        self.line.set_data(t, c[:, k])
        self.line.set_color(optimizer_color(name))
        final = c[-1, k]
        state = "diverged" if not np.isfinite(final) else f"final loss {final:.3g}"
        self.title.set_text(f"{name}, η = {self.lrs[k]:.3g}: {state}")
        self.ax.draw_artist(self.line)
        self.ax.draw_artist(self.title)
        self.image.value = self._png()

    def _png(self) -> bytes:
        """The canvas as it is now (no new draw), as PNG bytes, compressed lightly for speed."""
        width, height = self.fig.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def render_png(self) -> bytes:
        """The current picture as PNG bytes (what the widget shows)."""
        return self._png()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


def curve_explorer(lrs, curves: dict, per_epoch: int | None = None) -> CurveViewer:
    """Notebook 07's explorer: pick an optimizer and η, see its training curve
    (a :class:`CurveViewer` over precomputed ``curves``; the last expression of a cell shows it)."""
    return CurveViewer(lrs, curves, per_epoch=per_epoch)
