"""CI is one command, everywhere: the GitHub workflow, `.ci/run` and the README's Quick start
agree, `.ci/run` sets CI=true itself, and dev.py's extra stages (minimum versions, real torch)
are wired as the README says. Files are read as text; nothing is installed here.
"""
import os
import stat
import subprocess
from pathlib import Path

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
