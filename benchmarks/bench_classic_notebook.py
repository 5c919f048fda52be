"""η-slider latency in the classic Notebook 6.5 with ipywidgets 7.7.1. Prints ONE JSON object.

    .venv/bin/python benchmarks/bench_classic_notebook.py [01_gradient_descent.ipynb ...]

Colab's widget stack follows ipywidgets 7.7.1 and the classic Notebook's front end, so this is
the nearest a machine without Google's servers gets to what a Colab student feels. Builds (once)
``.cache/classic-notebook``: the versions of ``ci/classic-notebook-requirements.txt`` plus gdviz
from this checkout; starts ``jupyter notebook`` there on 127.0.0.1 with a random token and a
temporary HOME; opens each notebook in headless Chromium (Playwright from ``.venv``, Debian's
chromium), runs all cells, and then measures the first explorer exactly as the JupyterLab
harness does (``tests/browser/jlab_harness.py``): 12 arrow-key moves of the η slider (key
press → new figure loaded) and 8 mouse drags of its handle (mouseup → new figure painted:
"median_ms" the last, "median_first_ms" the first picture of the value released on, which the
page may draw itself, gdviz/explorer/page_drawing.py);
then, after ``--settle`` seconds of idle kernel (it draws ahead: gdviz/explorer/ahead.py),
8 drags to other points ("drags_after_idle_ms"). ``--paced``: the first 8 drags as a hand
makes them (300 ms of movement, a 150 ms rest before the release).
Also records page errors, error and stderr outputs, and that the first animation player plays.

Not part of ``python3 dev.py test`` (another server and browser stage would cost a minute
and a half); run it by hand when the explorer or the player changes. Numbers depend on load:
the machine's load average is recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import jlab_harness as h  # noqa: E402

VENV = ROOT / ".cache" / "classic-notebook"
REQUIREMENTS = ROOT / "ci" / "classic-notebook-requirements.txt"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))

# Connected, and the widget extension has given the kernel its widget manager: cells run
# before that display their widgets as nothing at all.
JS_KERNEL_READY = ("() => !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
                   " && Jupyter.notebook.kernel.is_connected()"
                   " && Jupyter.notebook.kernel.widget_manager)")
JS_RUN_DONE = """() => {
  const prompts = [...document.querySelectorAll('.input_prompt')].map(e => e.textContent);
  const ran = [...document.querySelectorAll('.code_cell .input_prompt')]
    .some(e => /\\[\\d+\\]/.test(e.textContent));
  return ran && !prompts.some(t => t.includes('*')) && !Jupyter.notebook.kernel_busy;
}"""


def build_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                       check=True, stdout=sys.stderr)
        stamp.write_text(wanted)
    # gdviz from this checkout, never upgrading a pinned version
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
                   check=True, stdout=sys.stderr)
    return python


def copy_notebooks(names: list[str], into: Path) -> None:
    for name in names:
        nb = json.loads((ROOT / "notebooks" / name).read_text())
        h.JupyterLabServer._prepare(nb)     # outputs cleared, kernel "python3", as the harness does
        (into / name).write_text(json.dumps(nb))


def start_server(python: Path, work: Path):
    port, token = h.free_port(), secrets.token_hex(12)
    env = dict(os.environ, HOME=str(work), JUPYTER_CONFIG_DIR=str(work / ".jupyter"),
               JUPYTER_DATA_DIR=str(work / ".data"), JUPYTER_RUNTIME_DIR=str(work / ".runtime"),
               MPLCONFIGDIR=str(work / ".mpl"), PATH=f"{python.parent}:{os.environ['PATH']}")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--user", "--name", "python3"],
                   env=env, check=True, capture_output=True)
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [str(python.parent / "jupyter"), "notebook", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", f"--NotebookApp.token={token}",
         f"--notebook-dir={work}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token={token}", timeout=2)
            return server, f"http://127.0.0.1:{port}", token
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("the classic Notebook server did not start: see " + str(work / "server.log"))


DRAG_TARGETS = (0.35, 0.6, 0.45, 0.7, 0.4, 0.55, 0.3, 0.65)


def measure(page, name: str, base: str, token: str, settle: float, paced: bool = False,
            rest_ms: float = h.PACED_REST_MS) -> dict:
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)[:300]))
    page.goto(f"{base}/notebooks/{name}?token={token}")
    page.wait_for_function(JS_KERNEL_READY, timeout=90_000, polling=100)
    # ipywidgets 7's manager first asks the kernel for existing widgets (and waits for the
    # comm that 7.7 lacks to close); widgets displayed before that settles show as nothing
    time.sleep(2.0)
    started = time.monotonic()
    page.evaluate("() => Jupyter.notebook.execute_all_cells()")
    page.wait_for_function(JS_RUN_DONE, timeout=300_000, polling=200)
    time.sleep(1.0)     # widgets and images render a little after the kernel went idle
    result = {"run_s": round(time.monotonic() - started, 1),
              "error_outputs": page.locator(".output_error").count(),
              "stderr_outputs": page.locator(".output_stderr").count(),
              "explorers": page.locator(".gdviz-explorer").count(),
              "players": page.locator(".gdviz-player").count(),
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    session = object.__new__(h.NotebookSession)     # the harness' measuring, on this page
    session.page = page
    if result["explorers"]:
        explorer = session.explorer(0)
        slider, label = session.eta_slider(explorer)
        keys = session.move_slider(explorer, slider, label, moves=12).summary()
        drags = session.drag_slider(explorer, slider, label, paced=paced, rest_ms=rest_ms).summary()
        time.sleep(settle)                      # the kernel draws ahead meanwhile
        again = session.drag_slider(explorer, slider, label,
                                    targets=[t - 0.025 for t in DRAG_TARGETS]).summary()
        result["keys_ms"] = {k: keys[k] for k in ("median_ms", "samples_ms")}
        result["drags_ms"] = {k: drags[k] for k in ("median_ms", "samples_ms", "median_first_ms",
                                                     "first_samples_ms")}
        result["drags_paced"] = paced
        result["paced_rest_ms"] = rest_ms if paced else None
        result["drags_after_idle_ms"] = {k: again[k] for k in ("median_ms", "samples_ms", "median_first_ms",
                                                               "first_samples_ms")}
    if result["players"]:
        played = session.press_player(0)
        result["player_frames_seen"] = len(set(played["frames"]))
    result["page_errors"] = page_errors
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS)
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds of idle kernel before the second round of drags")
    parser.add_argument("--paced", action="store_true",
                        help="the first round of drags as a hand makes them (300 ms of "
                             "movement, a 150 ms rest, the release)")
    parser.add_argument("--rest-ms", type=float, default=h.PACED_REST_MS,
                        help="with --paced: the rest before the release (0: a flick, let go "
                             "while moving)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    python = build_venv()
    work = Path(tempfile.mkdtemp(prefix="gdviz-classic-"))
    copy_notebooks(args.notebooks, work)
    server, base, token = start_server(python, work)
    per_notebook = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=h.find_chromium(), headless=True)
            context = browser.new_context(viewport=h.VIEWPORT, device_scale_factor=1)
            for name in args.notebooks:
                page = context.new_page()
                per_notebook[name] = measure(page, name, base, token, args.settle, args.paced,
                                             args.rest_ms)
                print(name, json.dumps(per_notebook[name]), file=sys.stderr, flush=True)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    keys = [x for r in per_notebook.values() for x in r.get("keys_ms", {}).get("samples_ms", [])]
    drags = [x for r in per_notebook.values() for x in r.get("drags_ms", {}).get("samples_ms", [])]
    idle = [x for r in per_notebook.values()
            for x in r.get("drags_after_idle_ms", {}).get("samples_ms", [])]
    versions = subprocess.run([str(python), "-c", "import ipywidgets, notebook, ipykernel; print("
                               "ipywidgets.__version__, notebook.__version__, ipykernel.__version__)"],
                              capture_output=True, text=True).stdout.split()
    report = {
        "what": "classic Notebook 6.5 + ipywidgets 7.7.1: η key press -> new figure loaded, "
                "mouse drag released -> new figure painted (first explorer of each notebook)",
        "versions": dict(zip(("ipywidgets", "notebook", "ipykernel"), versions)),
        "median_key_ms": round(statistics.median(keys), 1) if keys else None,
        "median_drag_ms": round(statistics.median(drags), 1) if drags else None,
        "median_drag_after_idle_ms": round(statistics.median(idle), 1) if idle else None,
        "per_notebook": per_notebook,
        "clean": all(not r["error_outputs"] and not r["stderr_outputs"] and not r["page_errors"]
                     for r in per_notebook.values()),
    }
    print(json.dumps(report, indent=1))
    return 0 if report["clean"] and (keys or not per_notebook) else 1


if __name__ == "__main__":
    sys.exit(main())
