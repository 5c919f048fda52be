"""Notebook hygiene: fast checks on the stored .ipynb files, without executing anything.

Every notebook in notebooks/ is stored clean (no outputs, no execution counts, no Colab
metadata, kernelspec python3), opens the same way (header cell with the Colab badge, then
the setup cell, both as ``tools/notebook_header.py`` writes them from gdviz/_project.py),
has the parts every notebook has (show_rule, an animation, the explorer, an exercise that
``check_update``s a hand-written class, asserts, a summary and further reading) and is
listed in the README. Executing them is nbval's job: ``pytest --nbval-lax
--nbval-current-env notebooks/`` (see notebooks/conftest.py).
"""
import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gdviz import _project

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
HEADER_TOOL = ROOT / "tools" / "notebook_header.py"

# Metadata keys Colab (and JupyterLab's run-time bookkeeping) leave behind.
FORBIDDEN_METADATA = {"colab", "accelerator", "gpuClass", "kaggle", "widgets", "executionInfo",
                      "outputId", "execution", "papermill", "vscode", "collapsed", "scrolled"}
REQUIRED_CALLS = ("show_rule(", "animate(", "explore(", "check_update(")

# Cell tags the notebooks use, and nothing else. nbval and JupyterLab read some tags and
# comments as orders ("this cell may raise", "skip this cell", "don't compare"): a false claim
# in a cell tagged ``raises-exception`` or under ``# NBVAL_SKIP`` would pass every run. A new
# tag goes here only if it is not one of those orders (see control_problems below).
ALLOWED_TAGS = frozenset({"exercise"})
# Tags that change how nbval (or JupyterLab / nbconvert) runs or judges a cell: never allowed,
# even if someone adds them to ALLOWED_TAGS.
CONTROL_TAGS = frozenset({"raises-exception", "skip", "skip-execution", "nbval-skip",
                          "nbval-raises-exception", "nbval-ignore-output", "nbval-check-output",
                          "pytest-validate-ignore-output"})
CONTROL_TAG_PREFIXES = ("nbval", "pytest-validate")
# nbval's comment markers (``# NBVAL_SKIP``, ``# NBVAL_RAISES_EXCEPTION``, ...) and the old
# ``# PYTEST_VALIDATE_IGNORE_OUTPUT``, in any case and spacing.
CONTROL_COMMENT = re.compile(r"^\s*#+\s*(NBVAL|PYTEST_VALIDATE)_?\w*", re.I | re.M)


def load_header_tool():
    spec = importlib.util.spec_from_file_location("notebook_header", HEADER_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def all_code(notebook) -> str:
    return "\n".join(source(cell) for cell in code_cells(notebook))


def headings(notebook) -> list[str]:
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            found += [m.group(1).strip() for m in re.finditer(r"^#+\s+(.*)$", source(cell), re.M)]
    return found


def tagged(notebook, tag):
    return [cell for cell in notebook["cells"] if tag in cell.get("metadata", {}).get("tags", [])]


def control_problems(notebook) -> list[str]:
    """Every cell tag outside ALLOWED_TAGS, every nbval control tag, and every nbval control
    comment in a code cell, as readable lines (empty for a notebook nbval runs plainly)."""
    problems = []
    for i, cell in enumerate(notebook["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if not isinstance(tags, list):
            problems.append(f"cell {i}: tags must be a list, got {tags!r}")
            continue
        for tag in tags:
            lowered = str(tag).lower()
            if lowered in CONTROL_TAGS or lowered.startswith(CONTROL_TAG_PREFIXES):
                problems.append(f"cell {i}: tag {tag!r} tells nbval/JupyterLab to skip or excuse "
                                "the cell; every cell must run and pass")
            elif tag not in ALLOWED_TAGS:
                problems.append(f"cell {i}: tag {tag!r} is not one the notebooks use "
                                f"({sorted(ALLOWED_TAGS)}; tests/test_notebooks.py ALLOWED_TAGS)")
        if cell["cell_type"] == "code":
            for match in CONTROL_COMMENT.finditer(source(cell)):
                problems.append(f"cell {i}: nbval control comment {match.group(0).strip()!r}")
    return problems


def walk_keys(value, path=""):
    """Every (path, key) in a nested JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key
            yield from walk_keys(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from walk_keys(inner, f"{path}[{i}]")


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ has no .ipynb files"


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return request.param, load(request.param)


# --- stored clean -------------------------------------------------------------------------------
def test_no_outputs_and_no_execution_counts(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        assert cell.get("outputs") == [], f"{path.name}: code cell {i} has stored outputs"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} has an execution count"


def test_kernelspec_is_python3(notebook):
    path, nb = notebook
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", \
        f"{path.name}: kernelspec must be python3, got {nb['metadata'].get('kernelspec')}"
    assert nb["nbformat"] == 4


def test_no_colab_or_runtime_metadata(notebook):
    path, nb = notebook
    places = [nb["metadata"]] + [cell.get("metadata", {}) for cell in nb["cells"]]
    found = sorted({f"{where or '/'}: {key}" for meta in places for where, key in walk_keys(meta)
                    if key in FORBIDDEN_METADATA})
    assert not found, f"{path.name} has Colab/run-time metadata (run tools/notebook_header.py): {found}"


# --- nbval runs every cell plainly ----------------------------------------------------------------
def test_only_allowed_tags_and_no_nbval_control(notebook):
    path, nb = notebook
    problems = control_problems(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def _tiny_notebook(*cells) -> dict:
    return {"cells": [{"cell_type": kind, "id": f"c{i}", "metadata": meta, "source": text,
                       **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                      for i, (kind, text, meta) in enumerate(cells)],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("cell, expected", [
    (("code", "assert 1 + 1 == 3", {"tags": ["raises-exception"]}), "raises-exception"),
    (("code", "assert 1 + 1 == 3", {"tags": ["exercise", "nbval-raises-exception"]}),
     "nbval-raises-exception"),
    (("code", "1 / 0", {"tags": ["nbval-skip"]}), "nbval-skip"),
    (("code", "1 / 0", {"tags": ["skip"]}), "skip"),
    (("code", "x = 1", {"tags": ["NBVAL-IGNORE-OUTPUT"]}), "NBVAL-IGNORE-OUTPUT"),
    (("code", "x = 1", {"tags": ["solution"]}), "solution"),            # not on the allow-list
    (("markdown", "text", {"tags": ["hide"]}), "hide"),
    (("code", "# NBVAL_SKIP\n1 / 0", {}), "NBVAL_SKIP"),
    (("code", "x = 1\n  #NBVAL_RAISES_EXCEPTION\nraise ValueError", {}), "NBVAL_RAISES_EXCEPTION"),
    (("code", "# nbval_ignore_output\nprint(1)", {}), "nbval_ignore_output"),
    (("code", "# PYTEST_VALIDATE_IGNORE_OUTPUT\nprint(1)", {}), "PYTEST_VALIDATE_IGNORE_OUTPUT"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_control_check_rejects_a_bad_notebook(tmp_path, cell, expected):
    """A notebook written to disk with one bad cell (and a good one) fails the check, naming it."""
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(_tiny_notebook(("code", "x = 1", {"tags": ["exercise"]}), cell)))
    problems = control_problems(load(path))
    assert len(problems) == 1 and "cell 1" in problems[0] and expected in problems[0], problems


def test_control_check_accepts_plain_cells_and_allowed_tags():
    nb = _tiny_notebook(("code", "# a comment about NBVAL is fine mid-line: x  # not NBVAL_SKIP\nx = 1",
                         {"tags": ["exercise"]}),
                        ("markdown", "# NBVAL_SKIP in markdown runs nothing", {}))
    assert control_problems(nb) == []


# --- the uniform opening --------------------------------------------------------------------------
def test_header_tool_check_passes():
    result = subprocess.run([sys.executable, str(HEADER_TOOL), "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout


def test_header_tool_is_idempotent(notebook):
    path, _ = notebook
    tool = load_header_tool()
    project = tool.load_project()
    once = tool.regenerate(path.read_text(encoding="utf-8"), path.name, project)
    assert tool.regenerate(once, path.name, project) == once


def test_badge_points_at_this_notebook_at_the_release_tag(notebook):
    path, nb = notebook
    header = source(nb["cells"][0])
    assert nb["cells"][0]["cell_type"] == "markdown" and header.startswith("# "), \
        f"{path.name}: the first cell must be the markdown title cell"
    links = re.findall(r"\[!\[Open In Colab\]\(([^)]*)\)\]\(([^)]*)\)", header)
    assert len(links) == 1, f"{path.name}: expected one 'Open In Colab' badge in the first cell"
    image, target = links[0]
    assert image == "https://colab.research.google.com/assets/colab-badge.svg"
    github = target.replace("https://colab.research.google.com/github/", "https://github.com/")
    assert target.startswith("https://colab.research.google.com/github/")
    assert github == f"{_project.REPOSITORY_URL}/blob/{_project.RELEASE_TAG}/notebooks/{path.name}"
    assert re.search(r"^##\s+What you will learn\s*$", header, re.M), \
        f"{path.name}: the first cell needs a 'What you will learn' heading"


def test_first_code_cell_is_the_setup_cell(notebook):
    path, nb = notebook
    setup = source(code_cells(nb)[0])
    assert setup.startswith("# Setup:"), f"{path.name}: the first code cell must be the setup cell"
    assert not re.search(r"^\s*[!%]", setup, re.M), f"{path.name}: the setup cell must be plain Python"
    tree = ast.parse(setup)
    guards = [node for node in ast.walk(tree) if isinstance(node, ast.If)
              and ast.unparse(node.test) == "'google.colab' in sys.modules"]
    assert len(guards) == 1, f"{path.name}: the install must be guarded by 'google.colab' in sys.modules"
    specs = [node.value for guard in guards for node in ast.walk(guard)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and "git+" in node.value]
    assert specs == [_project.pip_spec()], \
        f"{path.name}: the setup cell installs {specs}, not {_project.pip_spec()!r} (gdviz/_project.py)"
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {"numpy", "matplotlib.pyplot", "gdviz"} <= imported


def test_no_other_cell_installs_or_uses_magics(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)[1:], start=1):
        text = source(cell)
        assert "pip install" not in text and '"pip"' not in text, f"{path.name}: code cell {i} installs packages"
        assert not re.search(r"^\s*[!%]", text, re.M), f"{path.name}: code cell {i} uses a shell command or magic"


# --- what every notebook has ------------------------------------------------------------------------
def test_has_the_standard_parts(notebook):
    path, nb = notebook
    code = all_code(nb)
    missing = [call for call in REQUIRED_CALLS if call not in code]
    assert not missing, f"{path.name}: no call to {missing}"
    assert re.search(r"^\s*(assert\s|check(_close)?\()", code, re.M), f"{path.name}: no check(...) states a claim"
    heads = [h.lower() for h in headings(nb)]
    for wanted in ("summary", "further reading"):
        assert any(wanted in h for h in heads), f"{path.name}: no '{wanted.title()}' heading"


def test_has_at_least_two_tagged_exercises(notebook):
    path, nb = notebook
    exercises = tagged(nb, "exercise")
    assert len(exercises) >= 2, f"{path.name}: needs at least two cells tagged 'exercise'"
    assert all(cell["cell_type"] == "code" for cell in exercises)
    texts = [source(cell) for cell in exercises]
    assert any("check_update(" in text for text in texts), \
        f"{path.name}: one exercise must be 'write the update yourself' (check_update)"
    for text in texts:
        assert re.search(r"(check_update|check_answer|predict)\(", text), \
            f"{path.name}: an exercise cell must check itself:\n{text}"


def test_solutions_are_offered_but_not_shown(notebook):
    path, nb = notebook
    code = all_code(nb)
    assert re.search(r"^#\s*solution\(", code, re.M), \
        f"{path.name}: offer the worked solution as a commented-out solution(...) line"
    assert not re.search(r"^\s*solution\(", code, re.M), \
        f"{path.name}: a solution is displayed; the notebook a student opens is unsolved"


def test_listed_in_readme(notebook):
    path, _ = notebook
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"notebooks/{path.name}" in readme, f"README.md does not list notebooks/{path.name}"



# --- the nbval rules in notebooks/conftest.py can fail ----------------------------------------------
# One tiny one-cell notebook per case: (cell source, cell tags) -> which runs must fail.
GDVIZ_DEPRECATION = (
    "# as if gdviz's own code called something deprecated (a module named gdviz.*)\n"
    "exec(compile('import warnings\\nwarnings.warn(\"old API\", DeprecationWarning)',\n"
    "             'gdviz/_selftest.py', 'exec'), {'__name__': 'gdviz._selftest'})")
NBVAL_CASES = {
    # name: (source, tags, fails on the first run, fails on the second run)
    "ok": ("x = 1\nassert x == 1", [], False, False),
    "exercise_tag": ("x = 2\nassert x == 2", ["exercise"], False, False),
    "warn": ("import warnings\nwarnings.warn('careful')", [], True, True),
    "numpy_warning": ("import numpy as np\nnp.log(np.zeros(1))", [], True, True),
    "stderr": ("import sys\nprint('oops', file=sys.stderr)", [], True, True),
    "stdout_warning": ("print('overflow? RuntimeWarning: overflow encountered in exp')", [], True, True),
    "result_warning": ("'UserWarning: shown as the value of the cell'", [], True, True),
    "gdviz_deprecation": (GDVIZ_DEPRECATION, [], True, True),
    "other_deprecation": (GDVIZ_DEPRECATION.replace("gdviz", "elsewhere"), [], False, False),
    "second_error": ("if 'seen' in globals():\n    raise ValueError('second run')\nseen = True",
                     [], False, True),
    "second_warning": ("import warnings\nif 'seen2' in globals():\n"
                       "    warnings.warn('again', RuntimeWarning)\nseen2 = True", [], False, True),
    "raises_tag": ("assert 1 + 1 == 3, 'a false claim'", ["raises-exception"], True, True),
    "nbval_raises_tag": ("assert 1 + 1 == 3, 'a false claim'", ["nbval-raises-exception"], True, True),
    "skip_comment": ("# NBVAL_SKIP\n1 / 0", [], True, True),
    "skip_tag": ("1 / 0", ["nbval-skip"], True, True),
}


def run_nbval_on_tiny_notebooks(tmp_path, cases, conftest_text=None):
    """Write one notebook per case beside a copy of notebooks/conftest.py; run nbval on them."""
    (tmp_path / "conftest.py").write_text(conftest_text or (NOTEBOOK_DIR / "conftest.py").read_text())
    for name, (code, tags, *_rest) in cases.items():
        notebook = {"cells": [{"cell_type": "code", "id": "c0", "metadata": {"tags": tags} if tags else {},
                               "execution_count": None, "outputs": [], "source": code}],
                    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                "language": "python"}},
                    "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(notebook))
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                             "-p", "no:cacheprovider", "-q", "-rfEs", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True)
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+\.ipynb::Cell 0(?: \(second run\))?)", result.stdout, re.M))
    return result, failed


@pytest.mark.slow
@pytest.mark.tooling
def test_nbval_conftest_fails_on_warnings_excuses_and_second_run_errors(tmp_path):
    """Tiny notebooks, run the way the notebooks are: a warning (on stderr, printed on stdout,
    in a cell's value, a gdviz DeprecationWarning Python would hide), an error that happens
    only on the second run in the same kernel, and a cell excused by a tag or an NBVAL comment
    each fail exactly the runs they should; the rest pass."""
    result, failed = run_nbval_on_tiny_notebooks(tmp_path, NBVAL_CASES)
    expected = {f"{name}.ipynb::Cell 0{suffix}"
                for name, (_, _, first, second) in NBVAL_CASES.items()
                for suffix, fails in (("", first), (" (second run)", second)) if fails}
    assert failed == expected, (f"unexpected failures: {sorted(failed - expected)}\n"
                                f"should have failed: {sorted(expected - failed)}\n"
                                + result.stdout[-4000:])
    passing = 2 * len(NBVAL_CASES) - len(expected)
    assert re.search(rf"\b{passing} passed\b", result.stdout) and "skipped" not in result.stdout, \
        result.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.tooling
def test_nbval_conftest_fails_every_cell_when_the_preamble_breaks(tmp_path):
    """The preamble's reply is read: a preamble that raises in the kernel fails the notebook."""
    conftest = (NOTEBOOK_DIR / "conftest.py").read_text()
    broken = conftest.replace("_nbval_warnings.filterwarnings('default', category=DeprecationWarning",
                              "_nbval_warnings.filterwarnings('defualt', category=DeprecationWarning")
    assert broken != conftest, "the preamble's filter line moved; update this test"
    result, failed = run_nbval_on_tiny_notebooks(tmp_path, {"ok": NBVAL_CASES["ok"]}, broken)
    assert failed == {"ok.ipynb::Cell 0", "ok.ipynb::Cell 0 (second run)"}, result.stdout[-3000:]
    assert "preamble" in result.stdout and "invalid action" in result.stdout, result.stdout[-3000:]
