"""gdviz installs into Google Colab without touching anything Colab ships.

Two checks, both against a pip environment holding exactly ci/colab-requirements.txt
(cached in .cache/colab-install-check and rebuilt only when that file changes):

* installing a snapshot of this checkout (with dependency resolution) adds gdviz and
  changes nothing else;
* every notebook's first code cell, the Colab setup cell, installs gdviz from the release
  tag when ``google.colab`` is imported, and installs nothing when it is not. The cell runs
  for real against a local git snapshot of this checkout tagged with ``RELEASE_TAG``, with
  ``REPOSITORY_URL`` in it rewritten to that snapshot's ``file://`` address.

The cached environment is never modified. Each check installs into an *overlay*: a new,
empty virtual environment whose site-packages adds the cached one's through a .pth file,
so pip sees Colab's packages as already installed, exactly as it would on Colab, and
anything it installs or upgrades lands in the throw-away overlay.
"""
import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.colab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SETUP_GUARD = re.compile(r"""["']google\.colab["']\s+in\s+sys\.modules""")

# Stands in for Colab's own module: `output.enable_custom_widget_manager()` and the like
# become no-ops.
FAKE_COLAB_INIT = '"""Fake google.colab for tests/test_colab.py."""\nfrom . import output\n'
FAKE_COLAB_OUTPUT = "def __getattr__(name):\n    return lambda *args, **kwargs: None\n"

# Runs one cell the way a notebook would: through IPython, so magics and !commands work.
CELL_RUNNER = """\
import sys
if sys.argv[2] == "colab":
    import google.colab
from IPython.core.interactiveshell import InteractiveShell
result = InteractiveShell.instance().run_cell(open(sys.argv[1]).read())
sys.exit(0 if result.success else 1)
"""

# The setup cell the notebooks are specified to start with; the fixture notebook uses it so
# the machinery here is exercised even before notebooks/ exists.
FIXTURE_SETUP_CELL = """\
# Setup: in Colab, install gdviz (pinned to a release); elsewhere it is already installed.
import subprocess, sys
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", {spec}], check=True)
import numpy as np
import matplotlib.pyplot as plt
import gdviz
"""


def load_dev():
    spec = importlib.util.spec_from_file_location("gdviz_dev_py", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project_constants():
    """REPOSITORY_URL and RELEASE_TAG from gdviz/_project.py, read without importing gdviz."""
    tree = ast.parse((ROOT / "gdviz" / "_project.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("REPOSITORY_URL", "RELEASE_TAG"):
                found[name] = ast.literal_eval(node.value)
    return found["REPOSITORY_URL"], found["RELEASE_TAG"]


def sh(cmd, **kwargs):
    """Run a command, failing the test with its output if it fails."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
                    f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
    return done.stdout


def site_packages(python):
    return Path(sh([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .strip())


def freeze(python):
    """{canonical name: 'name==version' or 'name @ url'} as pip freeze reports them."""
    packages = {}
    for line in sh([python, "-m", "pip", "freeze", "--disable-pip-version-check"],
                   cwd=python.parent).splitlines():
        name = re.split(r"[=@ ]", line, maxsplit=1)[0]
        packages[re.sub(r"[-_.]+", "-", name).lower()] = line
    return packages


@pytest.fixture(scope="session")
def colab_base():
    """The cached environment holding exactly the Colab pins (built by dev.py's ensure_venv)."""
    dev = load_dev()
    try:
        return dev.colab_pins_venv()   # .cache/colab-install-check; .venv-colab overlays it too
    except SystemExit as failure:
        pytest.fail(f"could not build the Colab-pinned environment: {failure}")


@pytest.fixture
def overlay(colab_base, tmp_path):
    """A fresh virtual environment that sees the Colab-pinned packages as installed."""
    path = tmp_path / "overlay"
    sh([colab_base, "-m", "venv", "--without-pip", path])
    python = path / "bin" / "python"
    base_site = site_packages(colab_base)
    (site_packages(python) / "_colab_base.pth").write_text(
        f"import site; site.addsitedir({str(base_site)!r})\n")
    return python


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory):
    """A git repository holding this checkout's working tree, tagged RELEASE_TAG.

    Tracked and untracked-but-not-ignored files are copied, so uncommitted work is
    included. Returns its file:// address.
    """
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True)
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    _, tag = project_constants()
    repo = tmp_path_factory.mktemp("snapshot") / "gdviz"
    for name in sorted(set(listing.stdout.decode().split("\0")) - {""}):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git = ["git", "-c", "user.name=gdviz tests", "-c", "user.email=tests@gdviz.invalid",
           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    sh([*git, "init", "-q"], cwd=repo)
    sh([*git, "add", "-A"], cwd=repo)
    sh([*git, "commit", "-q", "-m", "snapshot for tests/test_colab.py"], cwd=repo)
    sh([*git, "tag", tag], cwd=repo)
    # In case the setup cell spells the address with ".git" on the end.
    (repo.parent / "gdviz.git").symlink_to(repo)
    return repo.as_uri()


def assert_only_gdviz_added(before, after, what):
    assert "gdviz" in after and "gdviz" not in before, f"{what}: gdviz was not installed"
    changed = sorted((name, before.get(name, "(absent)"), after.get(name, "(absent)"))
                     for name in (before.keys() | after.keys()) - {"gdviz"}
                     if before.get(name) != after.get(name))
    assert not changed, f"{what} changed what Colab ships: " + "; ".join(
        f"{name}: {old} -> {new}" for name, old, new in changed)


def test_installing_gdviz_into_colab_changes_nothing_else(overlay, snapshot):
    before = freeze(overlay)
    assert {"numpy", "matplotlib", "ipywidgets"} <= before.keys()
    repo = Path(snapshot.removeprefix("file://"))
    sh([overlay, "-m", "pip", "install", "-q", "--disable-pip-version-check", repo],
       cwd=overlay.parent)
    assert_only_gdviz_added(before, freeze(overlay), "pip install gdviz")


def first_code_cell(notebook_path):
    cells = json.loads(Path(notebook_path).read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            source = cell["source"]
            return "".join(source) if isinstance(source, list) else source
    pytest.fail(f"{notebook_path} has no code cell")


def fixture_notebook(directory):
    url, tag = project_constants()
    cell = FIXTURE_SETUP_CELL.format(spec=json.dumps(f"gdviz @ git+{url}@{tag}"))
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Fixture"},
                          {"cell_type": "code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": cell.splitlines(keepends=True)}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = directory / "fixture.ipynb"
    path.write_text(json.dumps(notebook))
    return path


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The Colab-mode run (a real pip install from git, 10-15 s) is done once per distinct
# install block; the notebooks' setup cells are generated, so they normally share one.
INSTALL_VERIFIED = {}  # install block -> the notebook whose cell proved it

# Run in the Colab-mode environment after the setup cell: every gdviz module imports from
# the installed (non-editable) copy, so nothing the package needs was left out of it.
IMPORT_ALL = """\
import importlib, pkgutil, gdviz
for module in pkgutil.walk_packages(gdviz.__path__, "gdviz."):
    importlib.import_module(module.name)
from importlib import resources
for name in ("player.js", "player.css", "offline.js", "browser_cache.js", "scene_draw.js"):
    assert (resources.files("gdviz") / "static" / name).is_file(), f"static/{name} not installed"
print(gdviz.__file__)
"""


def install_block(source):
    """The setup cell up to the end of its `if "google.colab" in sys.modules:` block."""
    lines = source.splitlines()
    for number, line in enumerate(lines):
        if SETUP_GUARD.search(line):
            indent = len(line) - len(line.lstrip())
            end = number + 1
            while end < len(lines) and (not lines[end].strip() or
                                        len(lines[end]) - len(lines[end].lstrip()) > indent):
                end += 1
            return "\n".join(lines[:end])
    return None


def run_cell(python, source, colab, workdir, extra_path):
    """Run `source` as a notebook cell in `python`; with colab=True, google.colab is importable and imported."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cell.py").write_text(source)
    (workdir / "runner.py").write_text(CELL_RUNNER)
    paths = [str(p) for p in extra_path]
    if colab:
        fake = workdir / "fake" / "google" / "colab"
        fake.mkdir(parents=True, exist_ok=True)
        (fake / "__init__.py").write_text(FAKE_COLAB_INIT)
        (fake / "output.py").write_text(FAKE_COLAB_OUTPUT)
        paths.insert(0, str(workdir / "fake"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=os.pathsep.join(paths), MPLBACKEND="Agg",
               PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return sh([python, workdir / "runner.py", workdir / "cell.py",
               "colab" if colab else "local"], cwd=workdir, env=env)


@pytest.mark.parametrize("notebook", [*(p.name for p in NOTEBOOKS), "fixture"])
def test_setup_cell_installs_gdviz_on_colab_only(notebook, overlay, snapshot, tmp_path):
    path = fixture_notebook(tmp_path) if notebook == "fixture" else ROOT / "notebooks" / notebook
    source = first_code_cell(path)
    url, tag = project_constants()
    assert SETUP_GUARD.search(source), \
        f"{notebook}: the first code cell must install gdviz only if 'google.colab' in sys.modules"
    assert url in source and tag in source, \
        f"{notebook}: the setup cell must install {url} at {tag} (gdviz/_project.py)"
    local_source = source.replace(url, snapshot)

    # Outside Colab (gdviz importable from the checkout, as in .venv): the whole cell runs
    # and installs nothing.
    site = site_packages(overlay)
    before = sorted(p.name for p in site.iterdir())
    run_cell(overlay, local_source, colab=False, workdir=tmp_path / "local", extra_path=[ROOT])
    assert sorted(p.name for p in site.iterdir()) == before, \
        f"{notebook}: outside Colab the setup cell installed something"

    block = install_block(source)
    if block in INSTALL_VERIFIED:
        return  # this exact install block already ran in Colab mode, for INSTALL_VERIFIED[block]

    # On Colab: the whole cell runs, gdviz is installed from the tagged snapshot into the
    # environment itself, all of it imports from there, and nothing else changes.
    before = freeze(overlay)
    run_cell(overlay, local_source, colab=True, workdir=tmp_path / "colab", extra_path=[])
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = sh([overlay, "-c", IMPORT_ALL], cwd=tmp_path,
               env={**clean_env, "MPLBACKEND": "Agg"}).strip().splitlines()[-1]
    assert Path(where).is_relative_to(site), f"{notebook}: gdviz was imported from {where}"
    assert_only_gdviz_added(before, freeze(overlay), f"{notebook}'s setup cell")
    INSTALL_VERIFIED[block] = notebook
