#!/usr/bin/env python3
"""gdviz developer commands. Standard library only, so it runs on any fresh Python 3.10+.

    python3 dev.py lab      set up .venv, open JupyterLab on notebooks/
    python3 dev.py test     set up .venv, run every test, then repeat the unit tests and
                            the notebooks in .venv-colab (pinned to what Google Colab ships)
    python3 dev.py unit     set up .venv, run the fast unit tests only
    python3 dev.py colab    only the Colab-pinned stage of `test`

Set-up is skipped when nothing changed: each environment keeps a stamp file holding a hash
of what it was built from (pyproject.toml, ci/colab-requirements.txt, the Python version).
Extra arguments after `unit` are passed to pytest, after `lab` to JupyterLab.
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
COLAB_VENV = ROOT / ".venv-colab"
PYPROJECT = ROOT / "pyproject.toml"
COLAB_REQUIREMENTS = ROOT / "ci" / "colab-requirements.txt"
COLAB_REQUIREMENTS_ARG = "ci/colab-requirements.txt"  # pip runs from ROOT
NOTEBOOKS = ROOT / "notebooks"
STAMP_NAME = ".gdviz-stamp"

# How notebooks are tested: the one place to change the nbval flags.
NBVAL_ARGS = ["--nbval-lax", "--nbval-current-env"]
# Markers (registered in pyproject.toml) that need more than the Colab-pinned set has.
COLAB_STAGE_MARKERS = "not browser and not colab"
UNIT_MARKERS = "not browser and not colab and not slow"

# Quiet a harmless warning the debugger in ipykernel prints at every kernel start.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def say(message):
    print(f"[dev.py] {message}", flush=True)


def run(cmd, **kwargs):
    """Run a command from the repository root; return its exit code."""
    say("$ " + shlex.join(str(part) for part in cmd))
    return subprocess.run([str(part) for part in cmd], cwd=ROOT, **kwargs).returncode


def check(cmd):
    code = run(cmd)
    if code != 0:
        raise SystemExit(f"[dev.py] failed with exit code {code}: {shlex.join(map(str, cmd))}")


def python_of(venv):
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fingerprint(*inputs):
    """Hash of the given files' bytes, plus the Python version and any extra strings."""
    digest = hashlib.sha256(sys.version.encode())
    for item in inputs:
        digest.update(item.read_bytes() if isinstance(item, Path) else str(item).encode())
    return digest.hexdigest()


def ensure_venv(venv, installs, inputs):
    """Create `venv` if missing and run each pip `installs` entry, unless the stamp says done.

    `installs` is a list of pip-install argument lists; `inputs` (files or strings) decide
    when the environment is stale. Returns the venv's python.
    """
    python = python_of(venv)
    stamp = venv / STAMP_NAME
    wanted = fingerprint(*inputs, repr(installs))
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        say(f"{venv.name} is up to date")
        return python
    if not python.exists():
        if venv.exists():
            shutil.rmtree(venv)  # a half-made environment
        try:
            import ensurepip  # noqa: F401  (Debian and Ubuntu split it out of python3)
        except ImportError:
            raise SystemExit("[dev.py] this Python cannot make virtual environments: "
                             "install python3-venv (sudo apt-get install python3-venv)")
        check([sys.executable, "-m", "venv", venv])
    stamp.unlink(missing_ok=True)
    for args in installs:
        check([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])
    stamp.write_text(wanted + "\n")
    return python


def dev_venv():
    return ensure_venv(VENV, [["-e", ".[test]"]], [PYPROJECT])


def colab_venv():
    """The Colab-pinned environment: Colab's versions first, then gdviz, resolved against them.

    The second install resolves gdviz's dependencies with the pins as constraints, so if
    gdviz ever needed anything Colab doesn't ship (an upgrade of numpy, ipywidgets 8, ...)
    this fails loudly instead of quietly upgrading.
    """
    return ensure_venv(
        COLAB_VENV,
        [["-r", COLAB_REQUIREMENTS_ARG], ["-e", ".", "-c", COLAB_REQUIREMENTS_ARG]],
        [PYPROJECT, COLAB_REQUIREMENTS],
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
    stages("colab: unit tests", pytest, python,
           ["tests", "-m", COLAB_STAGE_MARKERS], "colab unit tests")
    stages("colab: notebooks (nbval)", run_notebooks, python, "colab notebooks")


def cmd_test(_args):
    def body(stages):
        python = stages("set up .venv", dev_venv)
        stages("tests", pytest, python, ["tests", "--durations=10"], "tests")
        stages("notebooks (nbval)", run_notebooks, python, "notebooks")
        colab_stages(stages)
    staged(body)


def cmd_colab(_args):
    staged(colab_stages)


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
            "mutate": cmd_mutate}


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
