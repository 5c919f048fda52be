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

* **No excuses.** A cell that nbval was told to skip or to let raise (tag ``raises-exception``,
  ``nbval-skip``, ``nbval-raises-exception``, or a ``# NBVAL_SKIP`` / ``# NBVAL_RAISES_EXCEPTION``
  comment) fails instead: every cell must run and pass. (tests/test_notebooks.py rejects these
  tags and comments in the stored notebooks too.)

The preamble's reply is checked: if it does not run cleanly in the kernel, every cell of that
notebook fails with the reason.

Pass ``--nbval-once`` to skip the second run (faster, for a quick look).

The outputs of each notebook's first run, if every cell passed, are kept for the tests that read
them (``tests/notebook_outputs.py``), so those tests need not execute the notebook again.
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

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
    "assert any(action == 'default' and category is DeprecationWarning and module is not None\n"
    "           and module.pattern.startswith('gdviz')\n"
    "           for action, _, category, module, _ in _nbval_warnings.filters), 'filter not installed'\n"
    "del _nbval_warnings\n"
)
PREAMBLE_TIMEOUT_S = 60
# nbval options (from cell tags or comments) that would excuse a cell from running or passing.
EXCUSING_OPTIONS = {"skip": "skip it", "check_exception": "let it raise"}


# Keeps first-run outputs; absent where this file was copied alone (tests/test_notebooks.py's tiny notebooks).
OUTPUTS_MODULE = Path(__file__).resolve().parents[1] / "tests" / "notebook_outputs.py"


@lru_cache(maxsize=None)
def _outputs_module():
    if not OUTPUTS_MODULE.is_file():
        return None
    spec = importlib.util.spec_from_file_location("gdviz_notebook_outputs", OUTPUTS_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start_keeping_outputs(parent):
    """Before a notebook's first cell: forget its old outputs, fingerprint what is about to run."""
    module = _outputs_module()
    if module is None:
        return
    notebook = Path(str(parent.fspath))
    module.artifact_path(notebook).unlink(missing_ok=True)
    parent._gdviz_fingerprint, parent._gdviz_outputs = module.fingerprint(notebook), {}


def _keep_outputs(item):
    """A first-run cell passed: record its outputs; once every code cell has, save them."""
    parent = item.parent
    if getattr(parent, "_gdviz_outputs", None) is None:
        return
    parent._gdviz_outputs[item.cell_num] = list(item.test_outputs or [])
    if len(parent._gdviz_outputs) == sum(cell.cell_type == "code" for cell in parent.nb.cells):
        _outputs_module().save(Path(str(parent.fspath)), parent._gdviz_fingerprint, parent._gdviz_outputs)
        parent._gdviz_outputs = None


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


def send_preamble(kernel) -> str | None:
    """Run KERNEL_PREAMBLE in `kernel`; return None if it ran cleanly, else what went wrong."""
    msg_id = kernel.execute_cell_input(KERNEL_PREAMBLE, allow_stdin=False)
    while True:  # nbval's await_reply drops the reply; read it ourselves
        reply = kernel.get_message(stream="shell", timeout=PREAMBLE_TIMEOUT_S)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout=PREAMBLE_TIMEOUT_S)
    content = reply["content"]
    if content.get("status") == "ok":
        return None
    return (f"status {content.get('status')!r}: {content.get('ename', '')}: "
            f"{content.get('evalue', '')}")


@pytest.hookimpl(trylast=True)          # after pytest has set up the notebook (started its kernel)
def pytest_runtest_setup(item):
    if not _is_notebook_cell(item):
        return
    parent = item.parent
    if not getattr(parent, "_gdviz_preamble_sent", False):
        parent._gdviz_preamble_sent = True
        _start_keeping_outputs(parent)
        kernel = parent.kernel
        if kernel is None or not kernel.is_alive():
            parent._gdviz_preamble_error = "the notebook's kernel is not running"
        else:
            parent._gdviz_preamble_error = send_preamble(kernel)
    error = getattr(parent, "_gdviz_preamble_error", None)
    if error:
        pytest.fail(f"the warnings preamble (notebooks/conftest.py KERNEL_PREAMBLE) did not run "
                    f"cleanly in this notebook's kernel, so gdviz's DeprecationWarnings would go "
                    f"unseen: {error}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if _is_notebook_cell(item):
        excuses = [what for option, what in EXCUSING_OPTIONS.items() if item.options.get(option)]
        if excuses:
            pytest.fail(f"{item.name.removesuffix(SECOND_RUN)} is marked (cell tag or # NBVAL_ "
                        f"comment) to {' and '.join(excuses)}; every notebook cell must run and "
                        "pass", pytrace=False)
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
        if not item.name.endswith(SECOND_RUN):
            _keep_outputs(item)
    return result
