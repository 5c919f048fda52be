"""Claims a student can read: ``check`` prints one plain sentence, and stops the run if it is false.

A notebook states a claim and checks it in the same cell, as a sentence with its numbers::

    from gdviz.checks import check, check_close

    check(np.array_equal(shrank, lrs < 1.0),
          f"every η below 2/λ_max = 1 converged, every η above diverged ({len(lrs)} runs)")
    # ✓ every η below 2/λ_max = 1 converged, every η above diverged (40 runs)

    check_close(measured, predicted, f"measured rate {measured:.4f}, theory {predicted:.4f}", rtol=1e-3)
    # ✓ measured rate 0.9048, theory 0.9048

When the claim is true the sentence is printed with ✓; when it is false, :class:`ClaimFailed`
(an ``AssertionError``) is raised with the sentence after ✗, so the notebook stops there, and
a CI run that executes the notebook (nbval) fails. The caller formats the numbers in the
sentence: the check never rounds or rewrites them. Output is plain text (``print``), so it
reads the same in JupyterLab, Colab and a terminal, and nbval compares nothing unusual.

Needs numpy only.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check", "check_close", "ClaimFailed", "PASS", "FAIL"]

PASS, FAIL = "✓", "✗"


class ClaimFailed(AssertionError):
    """A claim checked with :func:`check` is false; the message is ``"✗ sentence"``."""


def _truth(condition, sentence: str) -> bool:
    """``condition`` as a bool: Python or numpy booleans (and 0-d or one-element arrays)."""
    size = getattr(condition, "size", None)
    if size is not None and size != 1:
        raise TypeError(f"check: the condition for {sentence!r} is an array of {size} values; "
                        f"say which claim you mean with .all() or .any()")
    try:
        return bool(condition)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"check: the condition for {sentence!r} must be true or false, "
                        f"got {condition!r}") from exc


def check(condition, sentence: str) -> None:
    """Print ``✓ sentence`` if ``condition`` holds; otherwise raise :class:`ClaimFailed`.

    ``condition`` is a bool or a numpy bool (a one-element array counts as its element; a
    longer array is a ``TypeError``: write ``.all()`` or ``.any()``). ``sentence`` is the claim
    in plain words, with its numbers already formatted, e.g.
    ``f"Adam ends {ratio:.0f}× lower than SGD"``. Returns nothing, so the cell shows only the line.
    """
    if not isinstance(sentence, str) or not sentence.strip():
        raise TypeError(f"check: the sentence must be a non-empty string, got {sentence!r}")
    if not _truth(condition, sentence):
        raise ClaimFailed(f"{FAIL} {sentence}")
    print(f"{PASS} {sentence}")


def check_close(value, expected, sentence: str, *, rtol: float = 1e-9, atol: float = 0.0) -> None:
    """Check that ``value`` equals ``expected`` within ``rtol`` (relative) or ``atol`` (absolute).

    Both may be numbers or arrays of the same shape (every element must agree). The sentence
    should show the two numbers; on failure the largest difference is added to it.
    """
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"check_close: {name} must be a number ≥ 0, got {tol!r}")
    got, want = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        raise ValueError(f"check_close: value has shape {got.shape}, expected has shape "
                         f"{want.shape}, for {sentence!r}")
    ok = bool(np.all(np.abs(got - want) <= atol + rtol * np.abs(want)))     # NaN is never close
    gap = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not ok:
        raise ClaimFailed(f"{FAIL} {sentence} (they differ by {gap:.3g}; "
                          f"allowed: rtol={rtol:g}, atol={atol:g})")
    check(True, sentence)
