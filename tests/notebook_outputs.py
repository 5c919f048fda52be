"""What each notebook showed in its nbval run, kept so the tests that read outputs need not run it again.

``notebooks/conftest.py`` calls :func:`save` after a notebook's first run under nbval (a fresh
kernel, every code cell passed): the outputs of that run go to
``artifacts/notebook-outputs/<environment>/<notebook>.json`` (git-ignored), with a fingerprint.
``tests/test_notebook_teaching.py`` calls :func:`load`, which returns the notebook with those
outputs only when they are *fresh*: the same notebook bytes, the same gdviz sources, the same
Python environment (``sys.prefix``: each of dev.py's environments reads its own nbval run) and
an output list for every code cell. Anything else (no file, a notebook or gdviz edited since, a
run cut short, another environment) returns None, and the test executes the notebook itself,
so a stale file can never let a test pass unseen. ``python3 dev.py test`` runs nbval before
the tests in each environment, so there the notebooks are executed once, not twice.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "notebook-outputs"
PACKAGE = ROOT / "gdviz"


def fingerprint(notebook: Path, package: Path = PACKAGE) -> str:
    """Hash of the notebook's bytes, every file of the package (its sources and data) and the Python."""
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    digest.update(f"{sys.prefix}\0{sys.version}".encode())
    return digest.hexdigest()


def artifact_path(notebook: Path, artifacts: Path = ARTIFACTS) -> Path:
    environment = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return artifacts / environment / f"{notebook.name}.json"


def code_cell_count(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


def save(notebook: Path, fingerprint_before: str, outputs: dict[int, list],
         artifacts: Path = ARTIFACTS) -> Path:
    """Store ``outputs`` (code cell number → its outputs) under the fingerprint taken before the run."""
    path = artifact_path(notebook, artifacts)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"fingerprint": fingerprint_before,
              "outputs": [outputs[number] for number in sorted(outputs)],
              "code_cells": sorted(outputs)}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def load(notebook: Path, artifacts: Path = ARTIFACTS, package: Path = PACKAGE):
    """The notebook (nbformat) with the outputs of its fresh nbval run, or None (see the module)."""
    import nbformat
    path = artifact_path(notebook, artifacts)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("fingerprint") != fingerprint(notebook, package):
        return None
    loaded = nbformat.read(notebook, as_version=4)
    code = [cell for cell in loaded.cells if cell.cell_type == "code"]
    if record.get("code_cells") != list(range(len(code))):
        return None
    for cell, outputs in zip(code, record["outputs"]):
        cell.outputs = [nbformat.from_dict(output) for output in outputs]
    return loaded
