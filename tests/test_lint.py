"""ruff, configured in pyproject.toml ([tool.ruff]), finds nothing in the code the project runs.

ruff comes with the ``test`` extra; where it is not installed the test is skipped, saying so.
The same check runs before each commit with ``pre-commit install`` (.pre-commit-config.yaml).
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["gdviz", "tests", "tools", "benchmarks", "dev.py"]


def _ruff():
    beside = Path(sys.executable).with_name("ruff")          # the test environment's own
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' brings it)")
    return found


def test_ruff_finds_nothing():
    result = subprocess.run([_ruff(), "check", "--no-cache", *CHECKED], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_configured_and_run_before_commits():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["ruff"]["line-length"] == 120
    assert {"E", "F", "W"} <= set(config["tool"]["ruff"]["lint"]["select"])
    assert any(dep.startswith("ruff") for dep in config["project"]["optional-dependencies"]["test"])
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "entry: ruff check" in hooks
