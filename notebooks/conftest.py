"""nbval, stricter: every notebook runs twice in one kernel, and any warning text fails.

Run as (from the repository root)::

    pytest --nbval-lax --nbval-current-env notebooks/

nbval starts one fresh kernel per notebook and runs its code cells in order, failing on an
error. This file adds two things to that, for the notebooks in this folder only:

* **A second run in the same kernel.** After a notebook's last cell, every code cell runs
  again in the same kernel (pytest items named ``Cell 3 (second run)``), the way a student
  presses "Run all" twice. State left behind by the first run (a variable, a modified
  array, a matplotlib style, a registered widget) must not break or change the second.
* **No warnings.** A cell fails if its output has any text on stderr (where Python prints
  warnings) or any text naming a warning (``RuntimeWarning``, ``DeprecationWarning``,
  ``UserWarning``, ...) in stdout or in a displayed value. Before the first cell, the kernel
  is told to show DeprecationWarnings raised in gdviz's own code (Python hides them outside
  ``__main__`` by default), so a matplotlib or numpy deprecation that gdviz trips is caught
  here, before it reaches a student as a red box.

Pass ``--nbval-once`` to skip the second run (faster, for a quick look).
"""
from __future__ import annotations

import re

import pytest

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # nbval is not installed: nothing to do
    IPyNbCell = None

SECOND_RUN = " (second run)"
WARNING_TEXT = re.compile(r"\b[A-Z]\w*Warning\b|\bwarnings\.warn\b")
# Sent to each notebook's kernel before its first cell (not part of any notebook).
KERNEL_PREAMBLE = (
    "import warnings as _nbval_warnings\n"
    "_nbval_warnings.filterwarnings('default', category=DeprecationWarning, module=r'gdviz(\\.|$)')\n"
    "_nbval_warnings.filterwarnings('default', category=PendingDeprecationWarning, module=r'gdviz(\\.|$)')\n"
    "del _nbval_warnings\n"
)


def pytest_addoption(parser):
    parser.addoption("--nbval-once", action="store_true",
                     help="run each notebook once (default here: twice in the same kernel)")


def _is_notebook_cell(item) -> bool:
    return IPyNbCell is not None and isinstance(item, IPyNbCell)


def pytest_collection_modifyitems(session, config, items):
    """After each notebook's cells, append the same cells again (same parent, same kernel)."""
    if IPyNbCell is None or config.getoption("--nbval-once"):
        return
    result, index = [], 0
    while index < len(items):
        item = items[index]
        if not _is_notebook_cell(item):
            result.append(item)
            index += 1
            continue
        parent, group = item.parent, []
        while index < len(items) and _is_notebook_cell(items[index]) and items[index].parent is parent:
            group.append(items[index])
            index += 1
        result.extend(group)
        result.extend(IPyNbCell.from_parent(parent, name=cell.name + SECOND_RUN,
                                            cell_num=cell.cell_num, cell=cell.cell,
                                            options=cell.options)
                      for cell in group)
    items[:] = result


def _output_texts(outputs):
    """(where, text) for every piece of text in a cell's outputs."""
    for output in outputs or ():
        kind = output.get("output_type")
        if kind == "stream":
            yield output.get("name", "stream"), output.get("text", "")
        elif kind in ("display_data", "execute_result"):
            for mime in ("text/plain", "text/html", "text/markdown"):
                text = output.get("data", {}).get(mime)
                if text:
                    yield mime, text if isinstance(text, str) else "".join(text)


def warning_problems(outputs) -> list[str]:
    """What in these outputs counts as a warning, as readable lines (empty if nothing)."""
    problems = []
    for where, text in _output_texts(outputs):
        if where == "stderr" and text.strip():
            problems.append(f"text on stderr:\n{text.rstrip()}")
        elif WARNING_TEXT.search(text):
            line = next(line for line in text.splitlines() if WARNING_TEXT.search(line))
            problems.append(f"warning text in {where}: {line.strip()[:300]}")
    return problems


@pytest.hookimpl(trylast=True)          # after pytest has set up the notebook (started its kernel)
def pytest_runtest_setup(item):
    if _is_notebook_cell(item) and not getattr(item.parent, "_gdviz_preamble_sent", False):
        item.parent._gdviz_preamble_sent = True
        kernel = item.parent.kernel
        if kernel is not None and kernel.is_alive():
            msg_id = kernel.execute_cell_input(KERNEL_PREAMBLE, allow_stdin=False)
            kernel.await_reply(msg_id, timeout=60)
            kernel.await_idle(msg_id, timeout=60)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    if _is_notebook_cell(item):
        problems = warning_problems(item.test_outputs)
        if problems:
            second = item.name.endswith(SECOND_RUN)
            name = item.name.removesuffix(SECOND_RUN)
            which = "second run, in the same kernel" if second else "first run, in a fresh kernel"
            source = item.cell.source if isinstance(item.cell.source, str) else "".join(item.cell.source)
            pytest.fail(f"{name} ({which}) printed a warning; notebooks must run without "
                        f"any warning output.\n" + "\n".join(problems) +
                        f"\n--- cell source ---\n{source}", pytrace=False)
    return result
