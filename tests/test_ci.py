"""CI is one command, everywhere: the GitHub workflow, `.ci/run` and the README's Quick start
agree, `.ci/run` sets CI=true itself, and dev.py's extra stages (minimum versions, real torch)
are wired as the README says, and every badge and install line names the release in
gdviz/_project.py. Nothing is installed here.
"""
import ast
import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from gdviz._project import RELEASE_TAG, REPOSITORY_URL
from test_packaging import pyproject, runtime_requirements

ROOT = Path(__file__).resolve().parents[1]
CI_RUN = ROOT / ".ci" / "run"


def fake_command(directory, name, script):
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_ci_run_sets_ci_true_itself(tmp_path):
    """Run .ci/run with CI unset and stand-ins for python3, id and apt-get: the test command
    it starts must see CI=true (so a missing Chromium fails the browser tests, not skips them)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen"
    # python3 answers the venv check and records what `python3 dev.py test` would see
    fake_command(bin_dir, "python3",
                 f'if [ "$1" = dev.py ]; then echo "args=$* CI=${{CI-unset}}" > {seen}; fi\nexit 0\n')
    fake_command(bin_dir, "id", "echo 1000\n")           # not root: never installs anything
    fake_command(bin_dir, "apt-get", "exit 1\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", str(CI_RUN)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 0, done.stderr
    assert seen.read_text().split() == ["args=dev.py", "test", "CI=true"]


# --- dev.py's extra stages -------------------------------------------------------------------

def load_dev():
    spec = importlib.util.spec_from_file_location("gdviz_dev_py_for_ci", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requirement_lines(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def test_minimum_requirements_pin_every_runtime_dependency_at_its_lower_bound():
    """The runtime dependencies and the `lab` extra (the minimum stage installs gdviz[lab])."""
    from test_packaging import pyproject
    lab = [Requirement(text) for text in pyproject()["project"]["optional-dependencies"]["lab"]]
    bounds = {}
    for req in runtime_requirements() + lab:
        (lower,) = [spec.version for spec in req.specifier if spec.operator == ">="]
        bounds[canonicalize_name(req.name)] = Version(lower)
    pins, tools = {}, []
    for req in requirement_lines(ROOT / "ci" / "minimum-requirements.txt"):
        name = canonicalize_name(req.name)
        if not req.specifier:
            tools.append(name)          # a test tool, taken at the newest that fits
            continue
        (spec,) = req.specifier
        assert spec.operator == "==", f"{req}: pin with =="
        pins[name] = Version(spec.version)
    assert pins == bounds, "ci/minimum-requirements.txt must pin each runtime dependency (and " \
                           "the lab extra's) at pyproject.toml's lower bound, and nothing else"
    assert not set(tools) & set(bounds)
    assert {"pytest", "nbval", "ipykernel"} <= set(tools), "the stage runs tests and notebooks"


def test_minimum_stage_runs_on_the_lowest_supported_python():
    dev = load_dev()
    assert f">={'.'.join(map(str, dev.minimum_python_version()))}" == \
        pyproject()["project"]["requires-python"]
    assert dev.runs_as(sys.executable, sys.version_info[:2])
    assert not dev.runs_as(sys.executable, (sys.version_info[0], sys.version_info[1] + 1))


def test_minimum_stage_without_its_python_skips_locally_and_fails_in_ci(monkeypatch, capsys):
    dev = load_dev()
    monkeypatch.setattr(dev, "lowest_python", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    assert dev.minimum_venv() is None
    assert "SKIPPED: no Python 3." in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    with pytest.raises(SystemExit, match="CI=true but no Python 3"):
        dev.minimum_venv()


def test_a_wrong_interpreter_for_the_minimum_stage_is_refused(monkeypatch):
    dev = load_dev()
    wrong = (3, 11) if dev.minimum_python_version() != (3, 11) else (3, 12)
    monkeypatch.setattr(dev, "minimum_python_version", lambda: wrong)
    monkeypatch.setenv(dev.MINIMUM_PYTHON_ENV, sys.executable if sys.version_info[:2] != wrong
                       else "/nonexistent/python")
    with pytest.raises(SystemExit, match=dev.MINIMUM_PYTHON_ENV):
        dev.lowest_python()


def torch_tests_in(path):
    """Node ids of the tests in `path` that import torch (or the file, if it does at the top)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = path.relative_to(ROOT).as_posix()

    def needs_torch(node):
        for child in ast.walk(node):
            if isinstance(child, ast.Import) and any(a.name.split(".")[0] == "torch" for a in child.names):
                return True
            if isinstance(child, ast.ImportFrom) and (child.module or "").split(".")[0] == "torch":
                return True
            if (isinstance(child, ast.Call) and getattr(child.func, "attr", None) == "importorskip"
                    and child.args and isinstance(child.args[0], ast.Constant)
                    and str(child.args[0].value).split(".")[0] == "torch"):
                return True
        return False

    top_level = ast.Module(body=[n for n in tree.body if not isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], type_ignores=[])
    if needs_torch(top_level):
        return [relative]
    return [f"{relative}::{node.name}" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
            and needs_torch(node)]


def test_every_test_that_needs_torch_runs_in_the_torch_stage():
    dev = load_dev()
    this_file = Path(__file__).resolve()
    needing = [node for path in sorted((ROOT / "tests").rglob("test_*.py")) if path != this_file
               for node in torch_tests_in(path)]
    assert "tests/test_optimizers.py::test_equals_real_torch_optim" in needing
    covered = lambda node: any(node == listed or node.startswith(listed + "::")
                               for listed in dev.TORCH_TESTS)
    missing = [node for node in needing if not covered(node)]
    assert not missing, f"add these to dev.py's TORCH_TESTS so they run with the real torch: {missing}"
    stale = [listed for listed in dev.TORCH_TESTS
             if not any(node == listed or node.startswith(listed + "::") for node in needing)]
    assert not stale, f"dev.py's TORCH_TESTS names tests that do not import torch: {stale}"


GUARDED = """\
import pytest

def test_ran():
    pass

@pytest.mark.parametrize("case", ["there", "absent"])
def test_parametrized(case):
    if case == "absent":
        pytest.skip(REASON)

def test_whole():
    if WHOLE:
        pytest.skip("no torch here")
"""


@pytest.mark.slow   # a pytest in a pytest, ~5 s each
@pytest.mark.tooling
@pytest.mark.parametrize("reason, whole, fails", [
    ("the library has no such optimizer", False, None),
    ("could not import 'torch': No module named 'torch'", False, "skipped for a missing module"),
    ("the library has no such optimizer", True, "never ran: .*test_whole"),
])
def test_the_torch_stage_fails_unless_each_test_ran(tmp_path, reason, whole, fails):
    dev = load_dev()
    test_file = tmp_path / "test_guard.py"
    test_file.write_text(GUARDED.replace("REASON", repr(reason)).replace("WHOLE", str(whole)))
    nodes = [f"{test_file}::{name}" for name in ("test_ran", "test_parametrized", "test_whole")]
    run = lambda: dev.pytest_each_runs(sys.executable, nodes, "guard", ["-p", "no:cacheprovider", "-q"])
    if fails:
        with pytest.raises(SystemExit, match=fails):
            run()
    else:
        run()


def test_torch_is_a_test_tool_not_a_dependency():
    dev = load_dev()
    assert dev.TORCH_REQUIREMENT == "torch==2.13.0"   # the CPU wheel this machine has on disk
    declared = [canonicalize_name(Requirement(text).name) for text in pyproject()["project"]["dependencies"]
                + [t for extra in pyproject()["project"]["optional-dependencies"].values() for t in extra]]
    assert "torch" not in declared


# --- the release: every badge and install line names the address and tag in _project.py ------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Anything that names a place gdviz is fetched or opened from.
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/([^)\s\"'\]]+)")
BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/([^)\s\"'\]]+)")
GIT_INSTALL = re.compile(r"git\+(https?://[^\s\"'@]+)@([^\s\"'#)]+)")


def release_references(text, notebook_name=None):
    """Problems with the Colab/Binder badges and git installs in `text`; [] if all are right."""
    owner_repo = REPOSITORY_URL.removeprefix("https://github.com/")
    problems = []
    for target in COLAB_LINK.findall(text):
        expected = f"{owner_repo}/blob/{RELEASE_TAG}/notebooks/"
        if not target.startswith(expected) or (notebook_name and target != expected + notebook_name):
            problems.append(f"Colab link to {target}")
    for target in BINDER_LINK.findall(text):
        if target.split("?")[0] != f"{owner_repo}/{RELEASE_TAG}":
            problems.append(f"Binder link to {target}")
    for url, tag in GIT_INSTALL.findall(text):
        if url.removesuffix(".git") != REPOSITORY_URL or tag != RELEASE_TAG:
            problems.append(f"install from {url}@{tag}")
    return problems


def test_release_tag_is_v_and_the_version():
    assert RELEASE_TAG == f"v{pyproject()['project']['version']}"
    assert pyproject()["project"]["urls"]["Repository"] == REPOSITORY_URL


def test_readme_badges_point_at_the_address_and_tag():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(COLAB_LINK.findall(text)) >= len(NOTEBOOKS), "a Colab badge per notebook"
    assert release_references(text) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_badges_and_install_lines_point_at_the_address_and_tag(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells)
    assert COLAB_LINK.search(text) and GIT_INSTALL.search(text), \
        f"{path.name} needs its Colab badge and its Colab install line"
    assert release_references(text, path.name) == [], path.name


@pytest.mark.parametrize("wrong", [
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/someone/gdviz/blob/{tag}/notebooks/x.ipynb)",
    "(https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/x.ipynb)",
    "(https://mybinder.org/v2/gh/{owner_repo}/v0.0.1?labpath=notebooks%2Fx.ipynb)",
    '"gdviz @ git+{url}@main"',
    '"gdviz @ git+https://github.com/fork/gdviz@{tag}"',
])
def test_a_wrong_address_or_tag_is_found(wrong):
    owner_repo = REPOSITORY_URL.removeprefix("https://github.com/")
    right = (f"(https://colab.research.google.com/github/{owner_repo}/blob/{RELEASE_TAG}/notebooks/x.ipynb)"
             f' "gdviz @ git+{REPOSITORY_URL}@{RELEASE_TAG}"')
    assert release_references(right) == []
    text = right + wrong.format(tag=RELEASE_TAG, owner_repo=owner_repo, url=REPOSITORY_URL)
    assert len(release_references(text)) == 1


# --- the GitHub workflow runs .ci/run, which runs the README's command -----------------------

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow_steps(text):
    """The job's steps as the text of each `- ...` item under `steps:` (comments dropped)."""
    lines = [line.split(" #", 1)[0].rstrip() for line in text.splitlines()
             if not line.lstrip().startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.strip() == "steps:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    steps = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        if line[indent:].startswith("- "):
            steps.append([])
        steps[-1].append(line.strip().removeprefix("- "))
    return ["\n".join(step) for step in steps]


def top_level_block(text, key):
    found = re.search(rf"^{key}:\n((?:[ \t]+.*\n|\n)*)", text, re.M)
    assert found, f"the workflow needs a top-level '{key}:'"
    return found.group(1)


def test_workflow_runs_on_push_pull_request_and_weekly():
    triggers = top_level_block(WORKFLOW.read_text(), "on")
    assert re.search(r"^  push:", triggers, re.M) and re.search(r"^  pull_request:", triggers, re.M)
    (cron,) = re.findall(r"cron:\s*[\"']([^\"']+)[\"']", triggers)
    minute, hour, day, month, weekday = cron.split()
    assert day == month == "*" and re.fullmatch(r"[0-6]", weekday), f"{cron!r} is not weekly"


def test_workflow_runs_ci_run_with_debians_chromium():
    text = WORKFLOW.read_text()
    assert re.search(r"^\s+runs-on: ubuntu-", text, re.M)
    (image,) = re.findall(r"^\s+container: (\S+)", text, re.M)
    version = re.fullmatch(r"python:3\.(\d+)-(bookworm|trixie)", image)
    assert version, f"{image}: a Debian image with Python (Ubuntu's chromium is a snap)"
    dev = load_dev()
    assert (3, int(version.group(1))) >= dev.minimum_python_version()
    steps = workflow_steps(text)
    assert steps[0].startswith("uses: actions/checkout@")
    assert steps[-1].splitlines()[-1] == "run: bash .ci/run", "the last step runs .ci/run, and only it"
    chromium = [i for i, step in enumerate(steps) if re.search(
        r"apt-get install\b.*\bchromium\b.*\bchromium-driver\b", step)]
    assert chromium and chromium[0] < len(steps) - 1, "Debian's chromium and chromium-driver first"
    minimum_python = [step for step in steps if f'"{dev.MINIMUM_PYTHON_ENV}=' in step]
    assert minimum_python and "3." + str(dev.minimum_python_version()[1]) in minimum_python[0], \
        "the minimum-versions stage needs the lowest supported Python (or CI=true fails it)"
    assert re.search(rf"^\s+{dev.TORCH_INDEX_ENV}: https://\S+/cpu$", text, re.M), \
        "the torch stage should get the CPU build, not PyPI's CUDA one"


def test_ci_run_and_the_readme_run_the_same_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M).group(1)
    (command,) = [line for block in re.findall(r"^```bash\n(.*?)^```", quick_start, re.S | re.M)
                  for line in block.splitlines() if "test" in line]
    ci_lines = [line.strip() for line in CI_RUN.read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert ci_lines[-1] == command, ".ci/run ends with the README's test command"
    assert ci_lines.index("export CI=true") < ci_lines.index(command)
