#!/usr/bin/env python3
"""Write the uniform opening of every notebook from gdviz/_project.py, and clean the notebook.

Usage (from the repository root, any Python 3.10+, standard library only)::

    python tools/notebook_header.py            # rewrite the opening cells of every notebook in notebooks/
    python tools/notebook_header.py --check    # change nothing; exit 1 if any notebook would change
    python tools/notebook_header.py notebooks/04_rmsprop.ipynb      # only these notebooks
    python tools/notebook_header.py --new notebooks/04_rmsprop.ipynb "RMSprop: forgetting old gradients"

Every notebook opens with the same two cells:

1. A markdown **header cell**: the title (``# ...``, kept), the "Open in Colab" badge
   (regenerated), then everything else the author wrote in that cell, which must include a
   ``## What you will learn`` heading with its list of goals (kept as written)::

       # Gradient descent and SGD

       [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/<owner>/<repo>/blob/<RELEASE_TAG>/notebooks/<file>)

       ## What you will learn

       - ...

2. The **setup cell**, the first code cell: a fixed preamble (regenerated) that installs gdviz
   from ``pip_spec()`` only in Colab and imports numpy, matplotlib.pyplot and gdviz, followed
   by the notebook's own imports (kept: every line after ``import gdviz``).

The same run also *cleans* the notebook: outputs and execution counts removed, the kernelspec
set to ``python3``, Colab and JupyterLab run-time metadata (``colab``, ``accelerator``,
``widgets``, ``executionInfo``, ...) dropped, cell ids made present and unique, the JSON
written the way Jupyter writes it. Running it twice changes nothing (idempotent); the test
suite runs ``--check``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PROJECT_FILE = ROOT / "gdviz" / "_project.py"

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
GOALS_HEADING = "## What you will learn"
SETUP_FIRST_LINE = "# Setup: in Colab, install gdviz (pinned to a release); elsewhere it is already installed."
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
# Notebook-level metadata worth keeping; everything else (colab, accelerator, widgets, ...) goes.
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")
# Cell-level metadata worth keeping; everything else (colab, id, executionInfo, outputId,
# execution, collapsed, scrolled, ...) goes.
KEEP_CELL_METADATA = ("tags",)
HEADER_ID, SETUP_ID = "header", "setup"


def load_project(path: Path = PROJECT_FILE):
    """gdviz/_project.py as a module, without importing gdviz (so this runs without numpy)."""
    spec = importlib.util.spec_from_file_location("gdviz_project_for_header", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def colab_url(project, filename: str) -> str:
    """The Colab address that opens notebooks/<filename> at the release tag."""
    repo = project.REPOSITORY_URL.rstrip("/")
    repo = repo[:-4] if repo.endswith(".git") else repo
    github_path = re.sub(r"^https://github\.com/", "", repo)
    return (f"https://colab.research.google.com/github/{github_path}"
            f"/blob/{project.RELEASE_TAG}/notebooks/{filename}")


def badge_line(project, filename: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(project, filename)})"


def setup_preamble(project) -> list[str]:
    return [
        SETUP_FIRST_LINE,
        "import subprocess, sys",
        'if "google.colab" in sys.modules:',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", '
        f'{json.dumps(project.pip_spec())}], check=True)',
        "import numpy as np",
        "import matplotlib.pyplot as plt",
        "import gdviz",
    ]


class HeaderError(ValueError):
    """A notebook whose opening cannot be regenerated (no title, no goals heading, ...)."""


def source_text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def set_source(cell, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def header_text(project, filename: str, old: str) -> str:
    lines = [line for line in old.splitlines() if BADGE_IMAGE not in line]   # any old badge goes
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].startswith("# "):
        raise HeaderError(f"{filename}: the first cell must be markdown starting with '# <title>'")
    title = lines[0].rstrip()
    body = "\n".join(lines[1:]).strip("\n")
    body = re.sub(r"\n{3,}", "\n\n", body)
    if not any(line.strip() == GOALS_HEADING for line in body.splitlines()):
        raise HeaderError(f"{filename}: the header cell needs a '{GOALS_HEADING}' heading "
                          "followed by the notebook's goals")
    return f"{title}\n\n{badge_line(project, filename)}\n\n{body}"


def setup_text(project, old: str | None) -> str:
    own: list[str] = []
    if old is not None:
        lines = old.splitlines()
        if "import gdviz" in lines:
            own = lines[lines.index("import gdviz") + 1:]
        else:  # a first code cell that is not a setup cell yet: keep nothing of it here
            own = []
    while own and not own[-1].strip():
        own.pop()
    return "\n".join(setup_preamble(project) + own)


def is_setup_cell(cell) -> bool:
    return cell["cell_type"] == "code" and source_text(cell).startswith(SETUP_FIRST_LINE)


def clean_cell(cell) -> dict:
    kind = cell["cell_type"]
    out = {"cell_type": kind}
    if "id" in cell:
        out["id"] = cell["id"]
    metadata = {key: cell.get("metadata", {})[key] for key in KEEP_CELL_METADATA
                if cell.get("metadata", {}).get(key)}
    out["metadata"] = metadata
    out["source"] = source_text(cell).splitlines(keepends=True)
    if kind == "code":
        out["execution_count"] = None
        out["outputs"] = []
    elif kind in ("markdown", "raw") and cell.get("attachments"):
        out["attachments"] = cell["attachments"]
    return out


def fix_ids(cells) -> None:
    """Every cell gets a unique, valid id; existing ids are kept (so diffs stay small)."""
    seen = set()
    valid = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
    for index, cell in enumerate(cells):
        wanted = cell.get("id")
        if not wanted or not valid.match(wanted) or wanted in seen:
            wanted = f"cell-{index}"
            suffix = 0
            while wanted in seen:
                suffix += 1
                wanted = f"cell-{index}-{suffix}"
        cell["id"] = wanted
        seen.add(wanted)


def render(notebook: dict) -> str:
    """JSON exactly as Jupyter (nbformat) writes it: sorted keys, one-space indent, UTF-8."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def regenerate(text: str, filename: str, project) -> str:
    """The notebook `text` (JSON) with its opening regenerated and everything cleaned."""
    notebook = json.loads(text)
    cells = [clean_cell(cell) for cell in notebook.get("cells", [])]
    if not cells or cells[0]["cell_type"] != "markdown":
        raise HeaderError(f"{filename}: the first cell must be the markdown header cell")
    set_source(cells[0], header_text(project, filename, source_text(cells[0])))
    cells[0]["id"] = HEADER_ID

    first_code = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "code"), None)
    if first_code is not None and is_setup_cell(cells[first_code]):
        setup = cells[first_code]
        set_source(setup, setup_text(project, source_text(setup)))
    else:
        setup = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                 "source": []}
        set_source(setup, setup_text(project, None))
        cells.insert(1, setup)
    for cell in cells:  # the ids "header" and "setup" belong to those two cells only
        if cell is not cells[0] and cell is not setup and cell.get("id") in (HEADER_ID, SETUP_ID):
            del cell["id"]
    setup["id"] = SETUP_ID
    fix_ids(cells)

    metadata = {key: notebook.get("metadata", {})[key] for key in KEEP_NOTEBOOK_METADATA
                if key in notebook.get("metadata", {})}
    metadata["kernelspec"] = dict(KERNELSPEC)
    metadata["language_info"] = dict(LANGUAGE_INFO)
    return render({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})


def new_notebook(title: str) -> str:
    """A minimal notebook with a header cell to fill in (the setup cell is added on regenerate)."""
    header = (f"# {title}\n\n{GOALS_HEADING}\n\n- ...\n")
    return render({"cells": [{"cell_type": "markdown", "id": HEADER_ID, "metadata": {},
                              "source": header.splitlines(keepends=True)}],
                   "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to process (default: every notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any notebook is not as generated")
    parser.add_argument("--new", nargs=2, metavar=("PATH", "TITLE"),
                        help="create a new notebook with the standard opening, then exit")
    args = parser.parse_args(argv)
    project = load_project()

    if args.new:
        path, title = Path(args.new[0]), args.new[1]
        if path.exists():
            print(f"{path} exists; not overwriting", file=sys.stderr)
            return 1
        path.write_text(regenerate(new_notebook(title), path.name, project), encoding="utf-8")
        print(f"created {path}")
        return 0

    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    drift, errors = [], []
    for path in paths:
        old = path.read_text(encoding="utf-8")
        try:
            new = regenerate(old, path.name, project)
        except (HeaderError, json.JSONDecodeError) as error:
            errors.append(str(error))
            continue
        if new != old:
            drift.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    if args.check:
        for path in drift:
            print(f"{path}: opening cells or metadata differ from gdviz/_project.py "
                  "(run: python tools/notebook_header.py)", file=sys.stderr)
        return 1 if drift or errors else 0
    for path in drift:
        print(f"rewrote {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
