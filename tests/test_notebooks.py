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
    assert re.search(r"^\s*assert\s", code, re.M), f"{path.name}: no assert checks a claim"
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
        assert re.search(r"(check_update|check_answer)\(", text), \
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
@pytest.mark.slow
def test_nbval_conftest_fails_on_warnings_and_second_run_errors(tmp_path):
    """Tiny notebooks, run the way the notebooks are: a warning, stderr text, or an error that
    happens only on the second run in the same kernel each fail exactly the cell they should."""
    import shutil
    shutil.copy(NOTEBOOK_DIR / "conftest.py", tmp_path / "conftest.py")
    cases = {
        "ok": "x = 1\nassert x == 1",
        "warn": "import warnings\nwarnings.warn('careful')",
        "numpy_warning": "import numpy as np\nnp.log(np.zeros(1))",
        "stderr": "import sys\nprint('oops', file=sys.stderr)",
        "second_error": "if 'seen' in globals():\n    raise ValueError('second run')\nseen = True",
        "second_warning": ("import warnings\nif 'seen2' in globals():\n"
                           "    warnings.warn('again', RuntimeWarning)\nseen2 = True"),
    }
    for name, code in cases.items():
        notebook = {"cells": [{"cell_type": "code", "id": "c0", "metadata": {}, "execution_count": None,
                               "outputs": [], "source": code}],
                    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                "language": "python"}},
                    "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(notebook))
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                             "-p", "no:cacheprovider", "-q", "-rf", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True)
    failed = set(re.findall(r"^FAILED (\S+\.ipynb::Cell 0(?: \(second run\))?)", result.stdout, re.M))
    assert failed == {
        "warn.ipynb::Cell 0", "warn.ipynb::Cell 0 (second run)",
        "numpy_warning.ipynb::Cell 0", "numpy_warning.ipynb::Cell 0 (second run)",
        "stderr.ipynb::Cell 0", "stderr.ipynb::Cell 0 (second run)",
        "second_error.ipynb::Cell 0 (second run)",
        "second_warning.ipynb::Cell 0 (second run)",
    }, result.stdout[-4000:]
    assert "4 passed" in result.stdout, result.stdout[-2000:]
