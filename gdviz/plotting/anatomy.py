"""The anatomy of one step: step k taken apart into the terms of its update rule."""
from __future__ import annotations

import numpy as np

from ..trajectory import Trajectory
from . import artist_ids
from ._common import _arrow_handle, _check_traj, _diverged_note, _lw, _new_axes, _state_at
from .paths import plot_contour, plot_trajectory
from .styles import OKABE_ITO


# --- the anatomy of one step -----------------------------------------------------------------
class StepTerms:
    """The pieces of step k, θ_k − θ_{k−1}, as the update rule builds it.

    ``terms`` is a list of (label, vector) whose sum is the step (to round-off): drawn tip to
    tail from θ_{k−1}. ``reference`` is a list of (label, vector) drawn from θ_{k−1} for
    comparison but not part of the sum (the plain gradient step −ηg, for adaptive methods).
    """

    def __init__(self, k, start, step, terms, reference, note=""):
        self.k, self.start, self.step = k, np.asarray(start), np.asarray(step)
        self.terms = [(label, np.asarray(vector, dtype=float)) for label, vector in terms]
        self.reference = [(label, np.asarray(vector, dtype=float)) for label, vector in reference]
        self.note = note

    @property
    def total(self) -> np.ndarray:
        """The sum of the terms (equal to ``step`` to round-off)."""
        return np.sum([vector for _, vector in self.terms], axis=0)

    def __repr__(self):
        parts = ", ".join(f"{label}={np.round(v, 4).tolist()}" for label, v in self.terms)
        return f"<StepTerms k={self.k}: {parts}; step={np.round(self.step, 4).tolist()}>"


def _check_step(traj: Trajectory, step) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be a whole number k (1 … {traj.n_steps}), got {step!r}")
    if not 1 <= step <= traj.n_steps:
        if traj.n_steps == 0:
            raise ValueError("the run took no steps, so there is no step to take apart")
        raise ValueError(f"step must be in 1 … {traj.n_steps} (the run took {traj.n_steps} "
                         f"steps{', then ' + _diverged_note(traj) if traj.diverged else ''}), got {step}")
    return int(step)


def step_terms(traj: Trajectory, step: int) -> StepTerms:
    r"""Take step k of a run apart into the terms of its update rule (see :class:`StepTerms`).

    The optimizer's class says how (its ``step_terms``, from the state before and after step k,
    ``traj.states``, and the gradient ``traj.used_grads``), for example:

    * SGD: −ηg; Momentum: αv_{k−1} (the velocity kept) + −ηg (the gradient term);
    * Nesterov: α²v_{k−1} + −(1+α)ηg (θ ← θ + αv − ηg with the new v = αv_{k−1} − ηg);
    * AdaGrad, RMSprop, Adadelta, Adam, Adamax: the rescaled step (e.g. −ηg/(√h + ε));
      AdamW: −ηδθ_{k−1} (weight decay) + the Adam step; NAdam: the gradient now + the momentum
      ahead; RAdam: its warm-up momentum step, then the rectified step; Lion: −η sign(c).

    The plain gradient step −ηg is drawn for comparison (a reference, not a term) unless the
    class sets ``compare_with_gradient_step = False`` (SGD, Momentum, Nesterov). An optimizer
    whose class gives no decomposition, or one that does not add up to the step (e.g. a
    variant that inherits its parent's), gets the step as a single term, with a note.
    """
    traj = _check_traj(traj, "step_terms")
    k = _check_step(traj, step)
    opt, kind = traj.optimizer, type(traj.optimizer)
    start, step_vector = traj.points[k - 1], traj.points[k] - traj.points[k - 1]
    g = traj.used_grads[k - 1]
    plain = [(r"plain gradient step $-\eta g$", -float(opt.lr) * g)]
    with np.errstate(all="ignore"):
        terms = opt.step_terms(start, g, _state_at(traj, k - 1), _state_at(traj, k))
    reference = plain if kind.compare_with_gradient_step else []
    note = ""
    if terms is not None:
        total = np.sum([v for _, v in terms], axis=0)
        scale = max(np.max(np.abs(step_vector)), np.max(np.abs(start)), 1e-300)
        if not np.allclose(total, step_vector, rtol=1e-9, atol=1e-12 * scale):
            terms = None                     # a subclass with another rule: do not guess
    if terms is None:
        terms, reference = [("step", step_vector)], plain
        note = f"{kind.__name__}: no decomposition known, the step is shown whole"
    return StepTerms(k, start, step_vector, terms, reference, note)


_TERM_COLORS = (OKABE_ITO["sky_blue"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"])


def plot_step_anatomy(traj: Trajectory, step: int, ax=None, *, zoom: bool = True):
    """Draw step k taken apart: at θ_{k−1}, the arrows of the update's terms and the step.

    The terms (:func:`step_terms`) are drawn tip to tail from θ_{k−1}, so for SGD, Momentum,
    Nesterov and AdamW they visibly add up to the step θ_k − θ_{k−1} (black); for adaptive
    methods the plain gradient step −ηg is drawn dashed beside the rescaled step. ``zoom``
    frames the step (the contours are drawn for that window); otherwise the surface's view.
    Returns ``{"terms": [Quiver…], "reference": [Quiver…], "step": Quiver}``; each Quiver's
    X, Y is its tail and U, V its vector, in data units.
    """
    traj = _check_traj(traj, "plot_step_anatomy")
    parts = step_terms(traj, step)
    k = parts.k
    ax = _new_axes(ax)
    tails, vectors = [], []
    tail = parts.start.copy()
    for _, vector in parts.terms:
        tails.append(tail.copy())
        vectors.append(vector)
        tail = tail + vector
    corners = [parts.start, parts.start + parts.step, *tails, *(t + v for t, v in zip(tails, vectors)),
               *(parts.start + v for _, v in parts.reference)]
    corners = np.array(corners)
    if zoom:
        center = (corners.min(axis=0) + corners.max(axis=0)) / 2
        half = max(np.max(corners.max(axis=0) - corners.min(axis=0)) * 0.75, 1e-9 * (1 + np.abs(center).max()))
        xlim, ylim = (center[0] - 1.6 * half, center[0] + 1.6 * half), (center[1] - half, center[1] + half)
        plot_contour(traj.surface, ax, xlim=xlim, ylim=ylim, levels=25)
    else:
        plot_contour(traj.surface, ax)
    path = plot_trajectory(traj, ax, contour=False, legend=False, color="0.55", label="path")
    path.set_linewidth(_lw(0.5))
    kw = dict(angles="xy", scale_units="xy", scale=1.0, width=0.008, zorder=6)
    handles, labels = [], []
    drawn = {"terms": [], "reference": [], "step": None}
    single = len(parts.terms) == 1             # the term is the step: one arrow, not two
    for (label, vector), t, color in zip(parts.terms, tails, _TERM_COLORS * 3):
        if single:
            label = label + r" $= \theta_k - \theta_{k-1}$"
        drawn["terms"].append(ax.quiver(t[0], t[1], vector[0], vector[1], color=color,
                                        gid=artist_ids.TERM, **kw))
        handles.append(_arrow_handle(color))
        labels.append(label)
    for label, vector in parts.reference:
        drawn["reference"].append(ax.quiver(parts.start[0], parts.start[1], vector[0], vector[1],
                                            color=OKABE_ITO["orange"], linestyle="--",
                                            facecolor="none", edgecolor=OKABE_ITO["orange"],
                                            linewidth=_lw(0.6), gid=artist_ids.REFERENCE, **kw))
        handles.append(_arrow_handle(OKABE_ITO["orange"], "--"))
        labels.append(label + " (for comparison)")
    if single:
        drawn["step"] = drawn["terms"][0]
    else:
        drawn["step"] = ax.quiver(parts.start[0], parts.start[1], parts.step[0], parts.step[1],
                                  color="black", gid=artist_ids.STEP, **{**kw, "width": 0.005, "zorder": 7})
        handles.append(_arrow_handle("black"))
        labels.append(r"the step $\theta_k - \theta_{k-1}$")
    for point, text, offset in ((parts.start, r"$\theta_{k-1}$", (-8, 6)),
                                (parts.start + parts.step, r"$\theta_k$", (6, 6))):
        ax.annotate(text, point, xytext=offset, textcoords="offset points",
                    ha="right" if offset[0] < 0 else "left", fontsize="large", zorder=8)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=1,
              frameon=False)
    title = f"{traj.label}\nstep k = {k}"
    if parts.note:
        title += f" ({parts.note})"
    ax.set_title(title)
    return drawn
