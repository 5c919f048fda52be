#!/usr/bin/env python3
"""gdviz developer commands. Standard library only, so it runs on any fresh Python 3.10+.

    python3 dev.py lab      set up .venv, open JupyterLab on notebooks/
    python3 dev.py test     set up .venv, run every test, then repeat the unit tests and
                            the notebooks in .venv-colab (pinned to what Google Colab ships)
                            and in .venv-minimum (every dependency at its lower bound, on
                            the lowest supported Python), and run the real-torch checks
                            in .venv-torch
    python3 dev.py unit     set up .venv, run the fast unit tests only
    python3 dev.py colab    only the Colab-pinned stage of `test`
    python3 dev.py minimum  only the minimum-versions stage of `test`
    python3 dev.py torch    only the real-torch stage of `test`

Set-up is skipped when nothing changed: each environment keeps a stamp file holding a hash
of what it was built from (pyproject.toml, the ci/*-requirements.txt file, the Python).
Extra arguments after `unit` are passed to pytest, after `lab` to JupyterLab.
"""
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
COLAB_VENV = ROOT / ".venv-colab"
# Exactly Colab's pins, nothing else: tests/test_colab.py installs gdviz over it, and .venv-colab
# is built on top of it (see colab_venv), so the pins are installed once, not twice.
COLAB_PINS_VENV = ROOT / ".cache" / "colab-install-check"
PYPROJECT = ROOT / "pyproject.toml"
COLAB_REQUIREMENTS = ROOT / "ci" / "colab-requirements.txt"
COLAB_REQUIREMENTS_ARG = "ci/colab-requirements.txt"  # pip runs from ROOT
MINIMUM_VENV = ROOT / ".venv-minimum"
MINIMUM_REQUIREMENTS = ROOT / "ci" / "minimum-requirements.txt"
MINIMUM_REQUIREMENTS_ARG = "ci/minimum-requirements.txt"
# The interpreter for .venv-minimum, if it is not found by itself (see lowest_python).
MINIMUM_PYTHON_ENV = "GDVIZ_MIN_PYTHON"
TORCH_VENV = ROOT / ".venv-torch"
# The real torch.optim, the independent oracle for the optimizers (not a gdviz dependency).
# Here pip takes the 2.13.0 CPU wheel that lies on this machine's disk (a 190 MB file; the
# environment is 1.2 GB and takes about 40 s of CPU, 1-3 min, to build; rebuilt only when
# pyproject.toml changes). Elsewhere pip downloads it from PyPI, and on Linux x86_64 PyPI's
# build is the CUDA one: several GB more. Set GDVIZ_TORCH_INDEX_URL to PyTorch's CPU index
# to get the CPU build (the GitHub workflow does).
TORCH_REQUIREMENT = "torch==2.13.0"
TORCH_INDEX_ENV = "GDVIZ_TORCH_INDEX_URL"
# Every test that needs the real torch (tests/test_ci.py finds each test that imports torch
# and fails if it is not listed here). The torch stage fails if any of them did not run.
TORCH_TESTS = ["tests/test_optimizers.py::test_equals_real_torch_optim",
               "tests/test_network.py::test_torch_trains_the_same_network",
               "tests/test_network.py::test_torch_agrees_on_hessian_vector_products"]
NOTEBOOKS = ROOT / "notebooks"
STAMP_NAME = ".gdviz-stamp"

# How notebooks are tested: the one place to change the nbval flags.
NBVAL_ARGS = ["--nbval-lax", "--nbval-current-env"]
# Markers (registered in pyproject.toml) that need more than the Colab-pinned set has.
# The Colab stage: what Colab's versions can change; the tests of the project's own tooling
# (a pytest or an nbval inside a pytest) run in the main stage
COLAB_STAGE_MARKERS = "not browser and not colab and not tooling"
UNIT_MARKERS = "not browser and not colab and not slow"

# Quiet a harmless warning the debugger in ipykernel prints at every kernel start.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


# Where say() and run() write: work in a background thread (Background) writes to a file
# of its own, printed when it is joined, so that its lines do not cut into a stage's output.
_output = threading.local()


def say(message):
    print(f"[dev.py] {message}", file=getattr(_output, "stream", None) or sys.stdout, flush=True)


def run(cmd, **kwargs):
    """Run a command from the repository root; return its exit code."""
    say("$ " + shlex.join(str(part) for part in cmd))
    stream = getattr(_output, "stream", None)
    if stream is not None:
        kwargs.setdefault("stdout", stream)
        kwargs.setdefault("stderr", subprocess.STDOUT)
    return subprocess.run([str(part) for part in cmd], cwd=ROOT, **kwargs).returncode


class Background:
    """Work done in a background thread, one piece after the other, while other stages run:
    environments built while the notebooks and tests run (pip mostly waits on the disk and the
    network), a stage beside another that uses one core. ``join()`` waits, prints the work's
    output and returns what each piece returned (or raises what it raised)."""

    def __init__(self, *builds):
        self.log = tempfile.TemporaryFile("w+")
        self.results, self.error = [], None
        self.thread = threading.Thread(target=self._build, args=(builds,), daemon=True)
        self.thread.start()

    def _build(self, builds):
        _output.stream = self.log
        try:
            for build in builds:
                self.results.append(build())
        except BaseException as exc:        # SystemExit too: raised again in join()
            self.error = exc

    def join(self):
        self.thread.join()
        self.log.seek(0)
        sys.stdout.write(self.log.read())
        sys.stdout.flush()
        if self.error is not None:
            raise self.error
        return self.results


def check(cmd):
    code = run(cmd)
    if code != 0:
        raise SystemExit(f"[dev.py] failed with exit code {code}: {shlex.join(map(str, cmd))}")


def python_of(venv):
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fingerprint(*inputs):
    """Hash of the given files' bytes, plus the running Python's version and any extra strings."""
    digest = hashlib.sha256(sys.version.encode())
    for item in inputs:
        digest.update(item.read_bytes() if isinstance(item, Path) else str(item).encode())
    return digest.hexdigest()


def python_site_packages(python):
    return Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())


def python_version(python):
    """The full version of another interpreter, as its sys.version says it."""
    return subprocess.run([str(python), "-c", "import sys; print(sys.version)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def ensure_venv(venv, installs, inputs, base_python=None, from_scratch=False, over=None):
    """Create `venv` if missing and run each pip `installs` entry, unless the stamp says done.

    `installs` is a list of pip-install argument lists; `inputs` (files or strings) decide
    when the environment is stale. `base_python` makes the venv (default: this Python).
    `from_scratch` makes a stale environment anew instead of installing over it, for one
    that must hold nothing but what `installs` says. `over`, another venv's python: the new
    venv (made by that python, without pip) sees that venv's packages as installed, through a
    .pth file, and pip (theirs) installs only what is missing, into the new venv; rebuilt when
    that venv is. Returns the venv's python.
    """
    if over is not None:
        base_python, inputs = over, [*inputs, over.parent.parent / STAMP_NAME]
    python = python_of(venv)
    stamp = venv / STAMP_NAME
    other_python = [] if base_python is None else [python_version(base_python)]
    wanted = fingerprint(*inputs, repr(installs), *other_python)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        say(f"{venv.name} is up to date")
        return python
    if not python.exists() or from_scratch:
        if venv.exists():
            shutil.rmtree(venv)  # a half-made or stale environment
        try:
            import ensurepip  # noqa: F401  (Debian and Ubuntu split it out of python3)
        except ImportError:
            raise SystemExit("[dev.py] this Python cannot make virtual environments: "
                             "install python3-venv (sudo apt-get install python3-venv)")
        check([base_python or sys.executable, "-m", "venv", *(["--without-pip"] if over else []), venv])
        if over is not None:
            (python_site_packages(python) / "_gdviz_base_venv.pth").write_text(
                f"import site; site.addsitedir({str(python_site_packages(over))!r})\n")
    stamp.unlink(missing_ok=True)
    for args in installs:
        check([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])
    stamp.write_text(wanted + "\n")
    return python


def dev_venv():
    return ensure_venv(VENV, [["-e", ".[test,lab]"]], [PYPROJECT])


def colab_pins_venv():
    """Colab's versions (ci/colab-requirements.txt) and nothing else."""
    return ensure_venv(COLAB_PINS_VENV, [["-r", COLAB_REQUIREMENTS_ARG]], [COLAB_REQUIREMENTS])


def colab_venv():
    """The Colab-pinned environment: Colab's versions first, then gdviz, resolved against them.

    Colab's versions come from the pins-only environment (colab_pins_venv, shared with
    tests/test_colab.py), which this one overlays; gdviz is resolved with the pins as
    constraints, so if gdviz ever needed anything Colab doesn't ship (an upgrade of numpy,
    ipywidgets 8, ...) this fails loudly instead of quietly upgrading.
    """
    return ensure_venv(
        COLAB_VENV,
        [["-e", ".", "-c", COLAB_REQUIREMENTS_ARG]],
        [PYPROJECT, COLAB_REQUIREMENTS],
        from_scratch=True,  # an older .venv-colab held the pins itself
        over=colab_pins_venv(),
    )


def minimum_python_version():
    """The lowest Python pyproject.toml's requires-python admits, as (major, minor)."""
    found = re.search(r'^requires-python\s*=\s*">=\s*(\d+)\.(\d+)"', PYPROJECT.read_text(), re.M)
    if not found:
        raise SystemExit("[dev.py] pyproject.toml needs requires-python = \">=3.N\"")
    return int(found.group(1)), int(found.group(2))


def runs_as(python, version):
    try:
        done = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == str(tuple(version))


def lowest_python():
    """An interpreter of the lowest supported Python: $GDVIZ_MIN_PYTHON, pythonX.Y on PATH,
    or one that pyenv installed; None if there is none."""
    version = minimum_python_version()
    if os.environ.get(MINIMUM_PYTHON_ENV):
        python = Path(os.environ[MINIMUM_PYTHON_ENV])
        if not runs_as(python, version):
            raise SystemExit(f"[dev.py] {MINIMUM_PYTHON_ENV}={python} is not Python "
                             f"{version[0]}.{version[1]}")
        return python
    if sys.version_info[:2] == version:
        return Path(sys.executable)
    name = f"python{version[0]}.{version[1]}"
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(name),
                  *sorted(pyenv_root.glob(f"versions/{version[0]}.{version[1]}.*/bin/{name}"),
                          reverse=True)]
    return next((Path(c) for c in candidates if c and runs_as(c, version)), None)


def minimum_venv():
    """Every runtime dependency at its lower bound (ci/minimum-requirements.txt), on the lowest
    supported Python; wheels only, as a user's pip would take them. gdviz goes in with the
    pins as constraints, so a bound in pyproject.toml above its pin fails here loudly.
    None (stage skipped, or failed under CI=true) if that Python is not installed."""
    python = lowest_python()
    if python is None:
        version = ".".join(map(str, minimum_python_version()))
        message = (f"no Python {version} found (on PATH, in pyenv, or as ${MINIMUM_PYTHON_ENV}); "
                   "the minimum-versions stage needs it")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            raise SystemExit(f"[dev.py] CI=true but {message}")
        say(f"SKIPPED: {message}")
        return None
    say(f"minimum versions on {python} (Python {python_version(python).split()[0]})")
    return ensure_venv(
        MINIMUM_VENV,
        [["--only-binary", ":all:", "-r", MINIMUM_REQUIREMENTS_ARG],
         ["-e", ".[lab]", "-c", MINIMUM_REQUIREMENTS_ARG]],
        [PYPROJECT, MINIMUM_REQUIREMENTS],
        base_python=python,
        from_scratch=True,  # a newer package left from an earlier build would hide a bound
    )


def torch_venv():
    """gdviz, pytest and the real torch; nothing for notebooks or browsers."""
    index = os.environ.get(TORCH_INDEX_ENV)
    return ensure_venv(
        TORCH_VENV,
        [["-e", ".", "pytest", TORCH_REQUIREMENT, *(["--extra-index-url", index] if index else [])]],
        [PYPROJECT],
    )


def notebook_paths():
    return sorted(NOTEBOOKS.glob("*.ipynb")) if NOTEBOOKS.is_dir() else []


def pytest(python, args, label):
    """Run pytest; exit code 5 ("no tests collected") is reported but not a failure."""
    code = run([python, "-m", "pytest", *args])
    if code == 5:
        say(f"{label}: no tests collected")
    elif code != 0:
        raise SystemExit(f"[dev.py] {label} failed (pytest exit code {code})")


# Skip reasons that mean "the dependency is missing": never acceptable where it was installed.
MISSING_REASONS = ("could not import", "no module named", "not installed")


def pytest_each_runs(python, nodes, label, extra_args=()):
    """Run the tests `nodes` (path::function ids) and fail unless each of them ran (at least
    one of its parametrized cases passed, none failed) and no case was skipped for a missing
    module. A case a test skips on its own grounds (an optimizer torch.optim lacks) is fine."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        pytest(python, [*nodes, *extra_args, "-rs", f"--junitxml={report}"], label)
        cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    # junit names a case by module ("tests.test_network") and name ("test_x[param]")
    key = lambda module, function: (module.rsplit(".", 1)[-1], function.split("[")[0])
    ran, missing = {node: 0 for node in nodes}, []
    node_of = {key(Path(node.split("::")[0]).stem, node.split("::")[1]): node for node in nodes}
    for case in cases:
        node = node_of.get(key(case.get("classname", ""), case.get("name", "")))
        skip = case.find("skipped")
        if skip is None and node:
            ran[node] += 1
        elif skip is not None and any(r in skip.get("message", "").lower() for r in MISSING_REASONS):
            missing.append(f"{case.get('name')}: {skip.get('message')}")
    never = [node for node, count in ran.items() if count == 0]
    if never or missing:
        raise SystemExit(f"[dev.py] {label}: these never ran: {never}; "
                         f"skipped for a missing module: {missing}")
    say(f"{label}: each of the {len(nodes)} ran ({sum(ran.values())} cases)")


def run_notebooks(python, label):
    if not notebook_paths():
        say(f"{label}: no notebooks/*.ipynb yet, skipped")
        return
    pytest(python, [*NBVAL_ARGS, "notebooks/"], label)


class Stages:
    """Runs named stages in order, failing fast, and prints how long each took."""

    def __init__(self):
        self.timings = []

    def __call__(self, name, action, *args):
        start = time.monotonic()
        try:
            return action(*args)
        finally:
            self.timings.append((name, time.monotonic() - start))

    def summary(self, ok):
        width = max((len(name) for name, _ in self.timings), default=0)
        print("\n[dev.py] timing summary")
        for name, seconds in self.timings:
            print(f"  {name:<{width}}  {seconds:7.1f} s")
        total = sum(seconds for _, seconds in self.timings)
        print(f"  {'total':<{width}}  {total:7.1f} s   {'OK' if ok else 'FAILED'}")


def staged(body):
    stages = Stages()
    ok = False
    try:
        body(stages)
        ok = True
    finally:
        stages.summary(ok)


def colab_stages(stages):
    python = stages("colab: set up .venv-colab", colab_venv)
    # The slow tests read what nbval kept of the notebooks' outputs (tests/notebook_outputs.py):
    # they run after it. The other tests share nothing with the notebooks: they run beside
    # them, one a core, as the minimum stage's do.
    unit = Background(lambda: pytest(python, ["tests", "-m", f"({COLAB_STAGE_MARKERS}) and not slow"],
                                     "colab unit tests"))
    try:
        stages("colab: notebooks (nbval), the unit tests beside", run_notebooks, python,
               "colab notebooks")
    finally:
        stages("colab: unit tests, the rest", unit.join)
    stages("colab: slow tests (the notebooks' outputs)", pytest, python,
           ["tests", "-m", f"({COLAB_STAGE_MARKERS}) and slow"], "colab slow tests")


def minimum_stages(stages, built=None):
    """``built``: the environment's python if built ahead (cmd_test), else it is built here."""
    python = (stages("minimum: set up .venv-minimum", minimum_venv) if built is None
              else built)
    if python is None:
        return
    # The slow tests re-execute the notebooks to read their text (nbval runs them here
    # beside); test_lint reads pyproject.toml with tomllib (Python 3.11+) and lints source,
    # which no dependency version changes: the main stage runs both. Without the slow tests,
    # the unit tests and the notebooks share nothing: they run side by side, one a core.
    notebooks = Background(lambda: run_notebooks(python, "minimum-versions notebooks"))
    try:
        stages("minimum: unit tests (beside the notebooks)", pytest, python,
               ["tests", "-m", UNIT_MARKERS, "--ignore=tests/test_lint.py"],
               "minimum-versions unit tests")
    finally:
        stages("minimum: notebooks (nbval), the rest", notebooks.join)


def torch_stages(stages, built=None):
    python = stages("torch: set up .venv-torch", torch_venv) if built is None else built
    stages("torch: real torch.optim", pytest_each_runs, python, TORCH_TESTS, "real-torch tests")


def cmd_test(_args):
    def body(stages):
        python = stages("set up .venv", dev_venv)
        # the minimum-versions and torch environments are built meanwhile (Background); their
        # set-up stage below is the wait for them, if any
        ahead = Background(minimum_venv, torch_venv)
        # nbval first, here and in the Colab stage: the slow tests that read the notebooks'
        # outputs (the answer-leak test) then read what it kept (tests/notebook_outputs.py)
        # instead of executing every notebook again. The unit tests share nothing with the
        # notebooks: they run beside them, one a core; then the browser, Colab-install and
        # slow tests, which want the machine to themselves.
        unit = Background(lambda: pytest(python, ["tests", "-m", UNIT_MARKERS, "--durations=5"],
                                         "unit tests"))
        try:
            stages("notebooks (nbval), the unit tests beside", run_notebooks, python, "notebooks")
        finally:
            stages("unit tests, the rest", unit.join)
        stages("tests: browser, Colab install, slow", pytest, python,
               ["tests", "-m", f"not ({UNIT_MARKERS})", "--durations=10"], "tests")
        colab_stages(stages)
        minimum, torch = stages("minimum and torch: set up (built meanwhile)", ahead.join)
        if minimum is not None:
            minimum_stages(stages, built=minimum)
        torch_stages(stages, built=torch)
    staged(body)


def cmd_colab(_args):
    staged(colab_stages)


def cmd_minimum(_args):
    staged(minimum_stages)


def cmd_torch(_args):
    staged(torch_stages)


def cmd_unit(args):
    python = dev_venv()
    pytest(python, ["tests", "-m", UNIT_MARKERS, *args], "unit tests")


def cmd_lab(args):
    python = dev_venv()
    NOTEBOOKS.mkdir(exist_ok=True)
    cmd = [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={NOTEBOOKS}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI machines often run as root
    say("$ " + shlex.join(cmd))
    try:
        sys.exit(subprocess.run(cmd, cwd=ROOT).returncode)
    except KeyboardInterrupt:
        sys.exit(0)


def cmd_mutate(args):
    """Mutation testing of the core (tools/mutate.py; not part of `test`): prints JSON."""
    python = dev_venv()
    sys.exit(run([python, ROOT / "tools" / "mutate.py", *args]))


COMMANDS = {"lab": cmd_lab, "test": cmd_test, "unit": cmd_unit, "colab": cmd_colab,
            "minimum": cmd_minimum, "torch": cmd_torch, "mutate": cmd_mutate}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    if sys.version_info < (3, 10):
        print("gdviz needs Python 3.10 or newer", file=sys.stderr)
        return 2
    COMMANDS[argv[0]](argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
