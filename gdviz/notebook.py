"""Small helpers the notebooks use to show gdviz's own code next to the maths.

``show_rule("Momentum")`` displays the formula from the optimizer's docstring beside the
actual source of its ``step`` method, read from the installed package (never pasted), so the
notebook and the code cannot drift apart. Markdown output only: it renders the same in
JupyterLab, classic Notebook and Colab.
"""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass

from .optimizers import Optimizer, optimizer_class

__all__ = ["show_rule", "formula"]


def formula(optimizer) -> str:
    r"""The update rule of an optimizer (class, instance or name) as one LaTeX ``aligned`` block."""
    cls = type(optimizer) if isinstance(optimizer, Optimizer) else (
        optimizer if inspect.isclass(optimizer) else optimizer_class(optimizer))
    doc = inspect.getdoc(cls) or ""
    lines, inside, row = [], False, []
    for line in doc.splitlines():
        if line.strip().startswith(".. math::"):
            inside = True
            continue
        if inside:
            if line.strip() == "" and (lines or row):
                break
            if line.strip():                    # a row ends with \\; a longer one wraps onto more lines
                row.append(line.strip())
                if line.rstrip().endswith("\\\\"):
                    lines.append(" ".join(row).rstrip("\\").strip())
                    row = []
    if row:
        lines.append(" ".join(row).rstrip("\\").strip())
    if not lines:
        raise ValueError(f"{cls.__name__} has no '.. math::' block in its docstring")
    body = r" \\ ".join(line.replace(r"\leftarrow", r"&\leftarrow", 1) if r"\leftarrow" in line
                        else "&" + line for line in lines)
    return r"\begin{aligned}" + body + r"\end{aligned}"


@dataclass
class _Markdown:
    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def show_rule(optimizer) -> _Markdown:
    """The formula of an optimizer's update beside the gdviz source that computes it."""
    cls = type(optimizer) if isinstance(optimizer, Optimizer) else (
        optimizer if inspect.isclass(optimizer) else optimizer_class(optimizer))
    step = cls.__dict__.get("step") or cls.step
    source = textwrap.dedent(inspect.getsource(step)).rstrip()
    title = f"**{cls.__name__}**" + (f": {cls.summary}" if getattr(cls, "summary", "") else "")
    return _Markdown(f"{title}\n\n$$\n{formula(cls)}\n$$\n\n"
                     f"`gdviz.{cls.__name__}.step`, from the installed package:\n\n```python\n{source}\n```")
