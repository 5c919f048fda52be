"""The optimizers' inner state: Momentum's velocity, the effective learning rates of the
adaptive methods, and Adam's moments and bias corrections."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..optimizers import OPTIMIZERS, Adam, Momentum, Optimizer
from ..trajectory import Trajectory
from . import artist_ids
from ._common import (
    _arrow_handle,
    _check_traj,
    _figsize,
    _given_axes,
    _lw,
    _ms,
    _name_and_settings,
    _new_axes,
    _plain_log_ticks,
    _state_at,
)
from .paths import plot_trajectory
from .styles import OKABE_ITO, optimizer_color

# --- internal state --------------------------------------------------------------------------
#: Colours and line styles of the x and y coordinates in the state plots.
COORDINATE_STYLES = ({"color": OKABE_ITO["blue"], "linestyle": "-", "label": "x"},
                     {"color": OKABE_ITO["orange"], "linestyle": "--", "label": "y"})


def _names_of(predicate) -> str:
    names = [name for name, cls in OPTIMIZERS.items() if predicate(cls)]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def plot_velocity(traj: Trajectory, ax=None, *, scale: float = 1.0, contour: bool | None = None):
    """Draw Momentum's (or Nesterov's) velocity v_k as an arrow at each point θ_k.

    The arrows are in the plot's own units (an arrow of v ends at θ_k + v, times ``scale``):
    v_k is the step that brought the ball to θ_k, and α v_k is what it carries into the next
    step. Returns the ``Quiver`` (its X, Y are ``traj.points``, its U, V are
    ``scale * traj.states["v"]``). Raises ``ValueError`` for optimizers without a velocity.
    """
    traj = _check_traj(traj, "plot_velocity")
    if not isinstance(traj.optimizer, Momentum):
        extra = "; for Adam's running mean of g see plot_adam_moments" if isinstance(traj.optimizer, Adam) else ""
        raise ValueError(f"{traj.name} keeps no velocity; plot_velocity needs "
                         f"{_names_of(lambda c: issubclass(c, Momentum))}{extra}")
    ax = _new_axes(ax)
    path = plot_trajectory(traj, ax, contour=contour, legend=False, markers=True, color="0.45")
    path.set_linewidth(_lw(0.5))
    path.set_markersize(_ms(0.6))
    v = np.asarray(traj.states["v"], dtype=float) * float(scale)
    points = traj.points
    color = optimizer_color(traj)
    label = "velocity $v_k$ at $\\theta_k$" + (f" (×{scale:g})" if scale != 1 else "")
    quiver = ax.quiver(points[:, 0], points[:, 1], v[:, 0], v[:, 1], angles="xy",
                       scale_units="xy", scale=1.0, color=color, width=0.006, headwidth=3.5,
                       zorder=4, gid=artist_ids.VELOCITY)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(_arrow_handle(color))
    labels.append(label)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2,
              frameon=False)
    ax.set_title(f"{traj.label}: the velocity it carries")
    return quiver


def _adapts(cls) -> bool:
    return cls.effective_lr is not Optimizer.effective_lr


def plot_effective_lr(traj: Trajectory, ax=None, *, reference: bool = True):
    """Plot each coordinate's effective learning rate over the steps, on a log scale.

    The rate is ``opt.effective_lr(state)`` after step k = 1 … n: η/(√h + ε) for AdaGrad and
    RMSprop, η√(u + ε)/√(v + ε) for Adadelta and η/(√v̂ + ε) for Adam (which multiplies m̂,
    not g). x and y are two lines; a dotted line marks η itself (``reference``). Returns the
    two lines [x, y]. Raises ``ValueError`` for optimizers with one fixed rate (SGD, Momentum).
    """
    traj = _check_traj(traj, "plot_effective_lr")
    opt = traj.optimizer
    if not _adapts(type(opt)):
        raise ValueError(f"{traj.name} uses the same learning rate η for every coordinate and "
                         f"every step; plot_effective_lr needs {_names_of(_adapts)}")
    if traj.n_steps < 1:
        raise ValueError("the run took no steps: there is no effective learning rate to plot")
    ax = _new_axes(ax, figsize=_figsize(0.52))
    steps = np.arange(1, traj.n_steps + 1)
    with np.errstate(all="ignore"):
        rates = np.broadcast_to(opt.effective_lr(_state_at(traj, steps)), (len(steps), 2))
    lines = [ax.plot(steps, rates[:, i], **COORDINATE_STYLES[i], gid=artist_ids.EFFECTIVE_LR)[0]
             for i in range(2)]
    if reference:
        ax.axhline(float(opt.lr), color="0.4", linestyle=":", linewidth=_lw(0.7),
                   label=f"η = {float(opt.lr):.3g}", gid=artist_ids.LR)
    formula, per = f"${opt.effective_lr_formula}$", opt.effective_lr_multiplies
    ax.set_yscale("log")
    ax.autoscale_view()
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("step k")
    ax.set_ylabel("effective learning rate")
    ax.set_title(f"{_name_and_settings(traj)[0]}: effective learning rate {formula}\n"
                 f"each coordinate's step per unit of {'gradient' if per == 'g' else f'${per}$'}")
    ax.legend(loc="best")
    return lines


def plot_adam_moments(traj: Trajectory, axes=None):
    """Adam's inner state over the steps: m̂ and v̂ per coordinate, and the bias corrections.

    Three panels sharing the step axis: m̂_k = m_k/(1 − β₁ᵏ) (the raw m_k dotted), v̂_k =
    v_k/(1 − β₂ᵏ) on a log scale (raw v_k dotted), and the factors 1 − β₁ᵏ and 1 − β₂ᵏ that
    they are divided by (log scale: 1 − β₂ᵏ starts at 0.001, which is why v̂ ≫ v early on).
    Returns ``{"m_hat": [x, y], "v_hat": [x, y], "corrections": [1−β₁ᵏ, 1−β₂ᵏ]}`` (lines).
    """
    traj = _check_traj(traj, "plot_adam_moments")
    opt = traj.optimizer
    if not isinstance(opt, Adam):
        raise ValueError(f"{traj.name} keeps no moments m and v; plot_adam_moments needs "
                         f"{_names_of(lambda c: issubclass(c, Adam))}")
    if traj.n_steps < 1:
        raise ValueError("the run took no steps: there are no moments to plot")
    if axes is None:
        width = mpl.rcParams["figure.figsize"][0]
        fig, axes = plt.subplots(3, 1, figsize=(width, width * 0.95), sharex=True,
                                 layout="constrained")
    else:
        axes = _given_axes(axes, 3)
    steps = np.arange(1, traj.n_steps + 1)
    state = _state_at(traj, steps)
    m_hat, v_hat = opt.moments_hat(state)
    c1, c2 = opt.bias_corrections(steps)
    drawn = {"m_hat": [], "v_hat": [], "corrections": []}
    for i in range(2):
        style_ = COORDINATE_STYLES[i]
        drawn["m_hat"].append(axes[0].plot(steps, m_hat[:, i], **{**style_, "label": f"m̂ ({style_['label']})"})[0])
        axes[0].plot(steps, state["m"][:, i], color=style_["color"], linestyle=":",
                     linewidth=_lw(0.6), label=f"m ({style_['label']}, uncorrected)")
        drawn["v_hat"].append(axes[1].plot(steps, v_hat[:, i], **{**style_, "label": f"v̂ ({style_['label']})"})[0])
        axes[1].plot(steps, state["v"][:, i], color=style_["color"], linestyle=":",
                     linewidth=_lw(0.6), label=f"v ({style_['label']}, uncorrected)")
    b1, b2 = float(opt.beta1), float(opt.beta2)
    drawn["corrections"].append(axes[2].plot(steps, c1, color=OKABE_ITO["bluish_green"],
                                             label=f"1 − β₁ᵏ (β₁ = {b1:g})")[0])
    drawn["corrections"].append(axes[2].plot(steps, c2, color=OKABE_ITO["reddish_purple"],
                                             linestyle="--", label=f"1 − β₂ᵏ (β₂ = {b2:g})")[0])
    axes[0].axhline(0, color="0.6", linewidth=_lw(0.4))
    axes[0].set_ylabel("first moment")
    axes[1].set_ylabel("second moment")
    axes[2].set_ylabel("bias correction")
    axes[2].set_xlabel("step k")
    if np.all(v_hat[v_hat == v_hat] > 0):
        axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].set_title(f"{_name_and_settings(traj)[0]}: m̂ = m/(1 − β₁ᵏ), v̂ = v/(1 − β₂ᵏ)")
    for ax in axes[:3]:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return drawn
