"""Drive JupyterLab in headless Chromium the way a person would (helpers for test_jupyterlab.py).

One `JupyterLabServer` per pytest session serves *copies* of the notebooks from a temporary
directory (JupyterLab autosaves and checkpoints, and the repository must stay untouched).
Everything JupyterLab or the kernel writes (HOME, config, data, runtime, settings,
workspaces, matplotlib's cache) lives in that temporary directory too.

`NotebookSession` wraps one Playwright page showing one notebook: open it, Run > Run All
Cells, wait for the kernel to go idle, read what went wrong, move the explorer's η slider
with the keyboard and time it, press Play on an animation, take a screenshot, and shut the
kernel down through the REST API.

The page contract (what the notebooks must render) is in `tests/browser/README.md`.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: A drag as a hand makes it (drag_slider(paced=True)): its moves, the pause between them, and
#: the rest on the target before the release (ms).
PACED_MOVES, PACED_STEP_MS, PACED_REST_MS = 15, 20, 150

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("GDVIZ_ARTIFACTS", ROOT / "artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
LATENCY_JSON = ARTIFACTS / "browser_latency.json"
LATENCY_TARGET_MS = 100.0
#: Issue 11: the median after a mouse drag on η, in every notebook (recorded, not asserted).
DRAG_TARGET_MS = 50.0
NOTEBOOKS_DIR = ROOT / "notebooks"
FIXTURE_DIR = "_gdviz_harness"  # the harness's own notebooks, served beside the real ones

# Flags Debian's Chromium needs when run headless as root in a sandbox with loopback only.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Loopback only: no name resolves, so a notebook's external link (a badge, a CDN) fails
    # at once instead of sending anything off the machine. It is logged, not failed.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 16000

# JupyterLab user settings written into the temporary settings dir.
LAB_SETTINGS = {
    # No "Would you like to receive official Jupyter news?" toast, no update check.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Render every cell (no virtual scrolling) so every output is in the DOM for the
    # assertions and for the full-notebook screenshot.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "scrollPastEnd": False,
    },
}

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def truthy_env(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def in_ci() -> bool:
    return truthy_env("CI")


def find_chromium() -> str | None:
    """Path of a Chromium binary: $GDVIZ_CHROMIUM, Debian's /usr/bin/chromium, or on PATH."""
    explicit = os.environ.get("GDVIZ_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------
def serving(server: "JupyterLabServer"):
    """A pytest fixture's body: start the server (a failure to start fails the test, with the
    server's log), yield it, stop it."""
    import pytest
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


class JupyterLabServer:
    """`jupyter lab` on 127.0.0.1 with a random token, serving `root_dir`, fully sandboxed."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.root_dir = self.base / "served"
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.base / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- files -------------------------------------------------------------------------
    def add_notebook(self, source: Path, name: str | None = None) -> str:
        """Copy a notebook into the served dir (kernelspec forced to python3); return its path."""
        name = name or source.name
        target = self.root_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = json.loads(Path(source).read_text(encoding="utf-8"))
        self._prepare(nb)
        target.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        return name

    def add_notebook_json(self, nb: dict, name: str) -> str:
        target = self.root_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._prepare(nb)
        target.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        return name

    @staticmethod
    def _prepare(nb: dict) -> None:
        """Outputs cleared (every figure on the page must come from this run), kernel forced."""
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        JupyterLabServer._force_kernel(nb)

    @staticmethod
    def _force_kernel(nb: dict) -> None:
        # The dev venv's own ipykernel ("python3", native to the server's Python); any other
        # kernelspec name would pop up JupyterLab's "Select Kernel" dialog.
        nb.setdefault("metadata", {})["kernelspec"] = {
            "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

    def copy_tree(self, source_dir: Path) -> None:
        """Copy a notebooks/ folder (data files and all) into the served dir, like `dev.py lab`."""
        shutil.copytree(source_dir, self.root_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for nb_path in self.root_dir.rglob("*.ipynb"):
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
            self._prepare(nb)
            nb_path.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    # -- process -----------------------------------------------------------------------
    def env(self) -> dict:
        dirs = {name: self.base / name for name in
                ("home", "config", "data", "runtime", "settings", "workspaces", "mplconfig")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "HOME": str(dirs["home"]),
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "MPLCONFIGDIR": str(dirs["mplconfig"]),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        })
        env.pop("JUPYTER_TOKEN", None)
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, as for a person
        return env

    def start(self, timeout: float = 90.0) -> None:
        self.root_dir.mkdir(parents=True, exist_ok=True)
        env = self.env()
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=1))
        # Build matplotlib's font cache now, beside the server start, so that the first
        # kernel does not print "Matplotlib is building the font cache" to the notebook.
        warm = subprocess.Popen([sys.executable, "-c", "import matplotlib.font_manager"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={env['JUPYTERLAB_WORKSPACES_DIR']}",
            "--ServerApp.disable_check_xsrf=False",
            "--LabServerApp.open_browser=False",
            "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n"
                                       f"{self.log_tail()}")
                time.sleep(0.25)
        warm.wait(timeout=120)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self._log:
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- REST --------------------------------------------------------------------------
    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels_for(self, nb_path: str) -> int:
        """Delete the sessions (and so shut down the kernels) of one notebook; return how many."""
        count = 0
        for sess in self.api("GET", "/api/sessions") or []:
            if sess.get("path") == nb_path:
                self.api("DELETE", f"/api/sessions/{sess['id']}", timeout=30)
                count += 1
        return count

    def lab_url(self, nb_path: str, workspace: str) -> str:
        quoted = urllib.parse.quote(nb_path)
        return (f"{self.url}/lab/workspaces/{urllib.parse.quote(workspace)}/tree/{quoted}"
                f"?reset&token={self.token}")


# --------------------------------------------------------------------------------------
# In-page JavaScript
# --------------------------------------------------------------------------------------
JS_APP_READY = """(nbPath) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return false;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== nbPath) return false;
  if (!panel.context.isReady || !panel.content || panel.content.widgets.length === 0) return false;
  const kernel = panel.sessionContext && panel.sessionContext.session
                 && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

# Before Run All (or any action): start watching the kernel's status, so that "idle" below
# means idle *after* it went busy for what we asked.
JS_WATCH_KERNEL = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const st = window.__gdvizRun = {since: null, sawBusy: false};
  if (!window.__gdvizWatched) {
    window.__gdvizWatched = true;
    kernel.statusChanged.connect((_, status) => {
      if (status === 'busy' && window.__gdvizRun) window.__gdvizRun.sawBusy = true;
    });
  }
  return true;
}"""

# True once the kernel went busy and is idle again, no cell shows [*], at least one code cell
# ran, and all this has held for `quietMs` (widgets and images render a little after idle).
JS_RUN_FINISHED = """([nbPath, quietMs, needBusy]) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const st = window.__gdvizRun;
  let done = false;
  if (panel && panel.context && panel.context.path === nbPath) {
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const code = panel.content.widgets.filter(c => c.model.type === 'code');
    const prompts = [...panel.content.node.querySelectorAll('.jp-InputArea-prompt')]
      .map(p => p.textContent || '');
    done = !!kernel && kernel.status === 'idle' && (st.sawBusy || !needBusy)
      && !prompts.some(t => t.includes('*'))
      && (code.length === 0 || code.some(c => c.model.executionCount !== null));
  }
  if (!done) { st.since = null; return false; }
  if (st.since === null) st.since = performance.now();
  return performance.now() - st.since >= quietMs;
}"""

JS_IMAGES_LOADED = """() => [...document.querySelectorAll('.jp-NotebookPanel img')]
  .every(img => img.complete)"""

# Everything the page shows that a person would call an error, plus what is on the page.
JS_INSPECT = """(nbPath) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const out = {errors: [], stderr: [], widgetErrors: [], dialogs: [], unexecuted: [],
               figures: 0, brokenFigures: 0, widgets: 0, explorers: 0, players: 0,
               codeCells: 0, widgetOutputs: 0, kernel: null};
  if (!panel || panel.context.path !== nbPath) { out.errors.push('notebook panel not current'); return out; }
  out.kernel = panel.sessionContext.session && panel.sessionContext.session.kernel
               ? panel.sessionContext.session.kernel.status : null;
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    out.codeCells += 1;
    if (cell.model.executionCount === null && cell.model.sharedModel.getSource().trim())
      out.unexecuted.push(i);
    // Every error output is a failure, whatever the cell's tags say (a cell tagged
    // raises-exception is still an error a student sees).
    const outputs = cell.model.outputs;
    for (let j = 0; j < outputs.length; j++) {
      const o = outputs.get(j).toJSON();
      if (o.output_type === 'error') {
        const tb = (o.traceback || []).join('\\n').replace(/\\x1b\\[[0-9;]*m/g, '');
        out.errors.push(
          {cell: i, ename: o.ename, evalue: o.evalue, traceback: tb.slice(-3000)});
      } else if (o.data && o.data['@WIDGET_MIME@'] && o.data['@WIDGET_MIME@'].model_id) {
        out.widgetOutputs += 1;
      } else if (o.output_type === 'stream' && o.name === 'stderr') {
        const text = Array.isArray(o.text) ? o.text.join('') : o.text;
        out.stderr.push({cell: i, text: String(text).slice(0, 2000)});
      }
    }
  });
  const root = panel.content.node;
  for (const el of root.querySelectorAll('.jp-OutputArea-output')) {
    const t = (el.textContent || '').trim();
    if (/^(Error displaying widget|Loading widget\\.\\.\\.$)/.test(t)
        || el.querySelector('.jupyter-widgets-error-widget'))
      out.widgetErrors.push(t.slice(0, 300));
  }
  for (const d of document.querySelectorAll('.jp-Dialog')) out.dialogs.push((d.textContent || '').trim().slice(0, 300));
  const figs = [...root.querySelectorAll('.jp-RenderedImage img')];
  out.figures = figs.filter(img => img.complete && img.naturalWidth > 0).length;
  out.brokenFigures = figs.length - out.figures;
  out.widgets = [...root.querySelectorAll('.jp-OutputArea-output')]
    .filter(el => el.querySelector(':scope > .jupyter-widgets')).length;
  if (out.widgets < out.widgetOutputs)
    out.widgetErrors.push(`${out.widgetOutputs - out.widgets} of ${out.widgetOutputs} widget(s) never rendered`);
  out.explorers = root.querySelectorAll('.gdviz-explorer').length;
  out.players = root.querySelectorAll('.gdviz-player').length;
  return out;
}""".replace("@WIDGET_MIME@", WIDGET_MIME)

# Instrument one explorer: keydown (capture phase), each <img> src change, each image load,
# the frame after each load, and each readout change, all as performance.now() timestamps.
JS_INSTRUMENT_EXPLORER = """(root) => {
  const st = window.__gdvizLat = {keys: [], ups: [], moves: [], srcs: [], loads: [], paints: [],
                                  readouts: [], drawn: [], sketches: window.__gdvizSketches || [],
                                  mutAt: 0};
  // pictures the page drew itself, on a canvas in the <img>'s place (gdviz/static/browser_cache.js):
  // [shown at, the frame after]
  document.addEventListener('gdviz-drawn', () => {
    const drawn = [performance.now(), null];
    st.drawn.push(drawn);
    st.mutAt = drawn[0];
    requestAnimationFrame(() => requestAnimationFrame(() => { drawn[1] = performance.now(); }));
  });
  window.addEventListener('keydown', e => st.keys.push([performance.now(), e.key]), true);
  window.addEventListener('mouseup', () => st.ups.push(performance.now()), true);
  window.addEventListener('mousemove', e => { if (e.buttons) st.moves.push(performance.now()); }, true);
  const imgMo = new MutationObserver(ms => {
    const t = performance.now();
    for (const m of ms) {
      if (m.type === 'attributes' && m.target.tagName === 'IMG') st.srcs.push([t, m.target.src]);
      st.mutAt = t;
    }
  });
  imgMo.observe(root, {attributes: true, attributeFilter: ['src'], subtree: true, childList: true});
  root.addEventListener('load', e => {
    if (!e.target || e.target.tagName !== 'IMG') return;
    const t = performance.now();
    st.loads.push(t);
    requestAnimationFrame(() => requestAnimationFrame(() => st.paints.push(performance.now())));
  }, true);
  const ro = root.querySelector('.gdviz-readout');
  if (ro) new MutationObserver(() => {
    const t = performance.now(); st.readouts.push([t, (ro.textContent || '').trim()]); st.mutAt = t;
  }).observe(ro, {subtree: true, childList: true, characterData: true});
  return true;
}"""

# The text of an explorer's readout, as JS_INSTRUMENT_EXPLORER records it.
JS_READOUT_TEXT = """(root) => {
  const ro = root.querySelector('.gdviz-readout');
  return ro ? (ro.textContent || '').trim() : '';
}"""

# SHA-256 of the bytes behind the explorer's figure <img> (its src is a blob: or data: URL).
JS_IMAGE_DIGEST = """async (img) => {
  const buf = await (await fetch(img.src)).arrayBuffer();
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map(b => b.toString(16).padStart(2, '0')).join('');
}"""

# What a player currently shows: its canvases' pixels and the visible images' sources.
JS_PLAYER_STATE = """(root) => {
  let h = 2166136261 >>> 0;
  const mix = s => { for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; } };
  for (const c of root.querySelectorAll('canvas')) { try { mix(c.toDataURL()); } catch (e) { mix('tainted'); } }
  for (const img of root.querySelectorAll('img')) if (img.offsetParent !== null) mix(img.currentSrc || img.src);
  for (const svg of root.querySelectorAll('svg')) if (svg.getBoundingClientRect().width > 0) mix(svg.outerHTML);
  const fr = root.querySelector('.gdviz-frame');
  return {frame: fr ? (fr.textContent || '').trim() : null, visual: h.toString(16)};
}"""


#: ms after a picture loads within which its readout has come (see first_picture_ms).
READOUT_WITHIN = 30


def first_eta(readout: str) -> str | None:
    """The first optimizer's η in an explorer's readout text ("■ η = 0.12 — …")."""
    found = re.search(r"η = (\S+)", readout)
    return found.group(1) if found else None


def first_picture_ms(lat: dict, up: float, value: str, before: str) -> float | None:
    """From a release (``up``, in the page's clock) to the first picture of the first
    optimizer's η = ``value`` painted, from JS_INSTRUMENT_EXPLORER's record ``lat``: 0 if the
    picture shown at the release was one already; None if none came. A picture is of the
    readout's value READOUT_WITHIN ms after it loaded (the page sets the readout with the
    picture, before it loads; the kernel's readout comes in a message after the picture's),
    or after the page drew it on its canvas (painted: two animation frames after either).
    ``before`` is the readout when the record began. The page may show its own picture of a
    value first and the kernel's after it (gdviz/explorer/page_drawing.py): this is the
    first, the drag's ``latency_ms`` the last."""
    def readout_at(t: float) -> str:
        text = before
        for when, now in lat["readouts"]:
            if when <= t:
                text = now
        return text
    if first_eta(readout_at(up)) == value:
        return 0.0
    shown = [next((p for p in lat["paints"] if p >= load), load) for load in lat["loads"]
             if load >= up and first_eta(readout_at(load + READOUT_WITHIN)) == value]
    shown += [paint or at for at, paint in lat.get("drawn", [])     # drawn by the page itself
              if at >= up and first_eta(readout_at(at + READOUT_WITHIN)) == value]
    return min(shown) - up if shown else None


@dataclass
class SliderMoves:
    """What moving the η slider with the keyboard did."""
    label: str
    keys: list = field(default_factory=list)
    latency_ms: list = field(default_factory=list)          # key press -> new image loaded
    latency_src_ms: list = field(default_factory=list)      # key press -> <img src> changed
    latency_painted_ms: list = field(default_factory=list)  # key press -> frame after load
    readout_ms: list = field(default_factory=list)          # key press -> readout text changed
    image_changed: bool = False
    readout_before: str = ""
    readouts_after: list = field(default_factory=list)
    values: list = field(default_factory=list)
    load_average: list = field(default_factory=list)   # os.getloadavg() when it started

    def summary(self) -> dict:
        def med(xs):
            return round(statistics.median(xs), 1) if xs else None
        return {
            "slider": self.label, "moves": len(self.latency_ms),
            "median_ms": med(self.latency_ms), "median_src_ms": med(self.latency_src_ms),
            "median_painted_ms": med(self.latency_painted_ms),
            "median_readout_ms": med(self.readout_ms),
            "min_ms": round(min(self.latency_ms), 1) if self.latency_ms else None,
            "max_ms": round(max(self.latency_ms), 1) if self.latency_ms else None,
            "samples_ms": [round(x, 1) for x in self.latency_ms],
            "keys": self.keys, "slider_values": self.values, "load_average": self.load_average,
        }


@dataclass
class SliderDrags:
    """What dragging a slider with the mouse did: release (mouseup) -> last picture painted."""
    label: str
    latency_ms: list = field(default_factory=list)
    first_ms: list = field(default_factory=list)    # release -> first picture of the value
    loads_after_release: list = field(default_factory=list)
    values: list = field(default_factory=list)
    load_average: list = field(default_factory=list)

    def summary(self) -> dict:
        xs, firsts = self.latency_ms, [x for x in self.first_ms if x is not None]
        return {"slider": self.label, "drags": len(xs),
                "median_ms": round(statistics.median(xs), 1) if xs else None,
                "median_first_ms": round(statistics.median(firsts), 1) if firsts else None,
                "first_samples_ms": [None if x is None else round(x, 1) for x in self.first_ms],
                "min_ms": round(min(xs), 1) if xs else None, "max_ms": round(max(xs), 1) if xs else None,
                "samples_ms": [round(x, 1) for x in xs], "slider_values": self.values,
                "pictures_after_release": self.loads_after_release, "load_average": self.load_average}


class NotebookSession:
    """One notebook in one browser tab."""

    def __init__(self, server: JupyterLabServer, browser_context, nb_path: str):
        self.server = server
        self.nb_path = nb_path
        self.page = browser_context.new_page()
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.timings: dict[str, float] = {}
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.on("console", self._on_console)
        self.failed_requests: list[str] = []
        self.page.on("requestfailed", lambda req: self.failed_requests.append(
            f"{req.url[:200]} ({req.failure})"))

    def _on_console(self, msg):
        if msg.type == "error":
            self.console_errors.append(msg.text[:500])

    def _timed(self, name, started):
        self.timings[name] = round(time.monotonic() - started, 2)

    # -- open and run ------------------------------------------------------------------
    def open(self, timeout_s: float = 90) -> None:
        t = time.monotonic()
        workspace = "gdviz-" + "".join(ch if ch.isalnum() else "-" for ch in self.nb_path)
        self.page.goto(self.server.lab_url(self.nb_path, workspace), wait_until="domcontentloaded")
        self.page.wait_for_function(JS_APP_READY, arg=self.nb_path, timeout=timeout_s * 1000,
                                    polling=100)
        # More room for the notebook in the screenshots: fold the file browser away.
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        self._timed("open_s", t)

    def run_all(self, timeout_s: float = 180) -> None:
        """Run > Run All Cells from the menu bar, then wait until the kernel is idle."""
        t = time.monotonic()
        self.page.evaluate(JS_WATCH_KERNEL)
        self.page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        item = self.page.locator(".lm-Menu-item[data-command='runmenu:run-all'], "
                                 ".lm-Menu-item[data-command='notebook:run-all-cells']").first
        item.click()
        self.wait_idle(timeout_s=timeout_s, quiet_ms=750, need_busy=True)
        self._timed("run_s", t)

    def wait_idle(self, timeout_s: float = 60, quiet_ms: float = 500,
                  need_busy: bool = False) -> None:
        """Wait until the kernel is idle, no cell is pending, and that has held for quiet_ms."""
        if not need_busy:
            self.page.evaluate(JS_WATCH_KERNEL)
        self.page.wait_for_function(JS_RUN_FINISHED, arg=[self.nb_path, quiet_ms, need_busy],
                                    timeout=timeout_s * 1000, polling=100)
        self.page.wait_for_function(JS_IMAGES_LOADED, timeout=30_000, polling=100)

    def inspect(self) -> dict:
        # A kernel can go busy for a moment after "Run all" for a message from the page (the
        # explorer's page cache acknowledges pictures drawn ahead): idle again within
        # milliseconds. One still running a cell stays busy, and the inspection says so.
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        try:
            self.page.wait_for_function(JS_APP_READY, arg=self.nb_path, timeout=3000, polling=20)
        except PlaywrightTimeout:
            pass
        info = self.page.evaluate(JS_INSPECT, self.nb_path)
        info["pageErrors"] = list(self.page_errors)
        info["consoleErrors"] = list(self.console_errors)
        info["failedRequests"] = list(self.failed_requests)
        return info

    # -- explorer: η slider ------------------------------------------------------------
    def explorer(self, index: int = 0):
        return self.page.locator(".gdviz-explorer").nth(index)

    @staticmethod
    def explorer_image(explorer):
        """The explorer's figure: its widgets.Image (`img.widget-image`), else its first img."""
        widget_img = explorer.locator("img.widget-image")
        return widget_img.first if widget_img.count() else explorer.locator("img").first

    def eta_slider(self, explorer, label_prefix: str = "η"):
        """The slider in `explorer` whose description starts with `label_prefix` (or None)."""
        sliders = explorer.locator(".widget-slider")
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            label = slider.locator(".widget-label").first
            text = (label.text_content() or "").strip() if label.count() else ""
            if text.startswith(label_prefix):
                return slider, text
        return None, None

    @staticmethod
    def slider_handle(slider):
        # ipywidgets 8 renders noUiSlider, ipywidgets 7 renders a jQuery UI slider.
        return slider.locator(".noUi-handle, .ui-slider-handle").first

    @staticmethod
    def slider_value(slider) -> str:
        handle = NotebookSession.slider_handle(slider)
        value = handle.get_attribute("aria-valuenow")
        readout = slider.locator(".widget-readout").first
        text = (readout.text_content() or "").strip() if readout.count() else ""
        return f"{value}|{text}"

    def move_slider(self, explorer, slider, label: str, moves: int = 12,
                    settle_ms: float = 120, update_timeout_s: float = 15) -> SliderMoves:
        """Press ArrowRight/ArrowLeft on the focused slider handle `moves` times (half each
        way, turning round at an end) and time each key press to the new figure."""
        result = SliderMoves(label=label, load_average=[round(x, 2) for x in os.getloadavg()])
        img = self.explorer_image(explorer)
        img.scroll_into_view_if_needed()
        readout = explorer.locator(".gdviz-readout").first
        result.readout_before = (readout.text_content() or "").strip() if readout.count() else ""
        digest_before = img.evaluate(JS_IMAGE_DIGEST)
        explorer.evaluate(JS_INSTRUMENT_EXPLORER)
        handle = self.slider_handle(slider)
        handle.focus()
        direction, turned, pressed = "ArrowRight", 0, 0
        while len(result.latency_ms) < moves:
            if pressed >= moves * 3:
                raise AssertionError(f"slider {label!r} would not move: values {result.values}")
            if len(result.latency_ms) == moves // 2 and turned == 0:
                direction, turned = "ArrowLeft", 1
            before = self.slider_value(slider)
            n_keys = self.page.evaluate("() => window.__gdvizLat.keys.length")
            self.page.keyboard.press(direction)
            pressed += 1
            after = self.slider_value(slider)
            if after == before:  # at the end of its range: turn round, this press didn't count
                direction = "ArrowLeft" if direction == "ArrowRight" else "ArrowRight"
                turned += 1
                continue
            result.keys.append(direction)
            result.values.append(after.split("|")[-1])
            try:
                sample = self.page.wait_for_function(
                    """([n, settle]) => {
                      const s = window.__gdvizLat;
                      if (s.keys.length <= n) return false;
                      const k = s.keys[n][0];
                      const src = s.srcs.find(x => x[0] >= k), load = s.loads.find(t => t >= k),
                            paint = s.paints.find(t => t >= k);
                      if (!src || load === undefined || paint === undefined) return false;
                      if (performance.now() - s.mutAt < settle) return false;  // let it settle
                      const ro = s.readouts.find(x => x[0] >= k);
                      return {src: src[0] - k, load: load - k, paint: paint - k,
                              readout: ro ? ro[0] - k : null, readoutText: ro ? ro[1] : null};
                    }""",
                    arg=[n_keys, settle_ms], timeout=update_timeout_s * 1000, polling=20,
                ).json_value()
            except Exception as exc:  # playwright TimeoutError
                raise AssertionError(
                    f"the explorer figure did not change within {update_timeout_s:.0f} s of "
                    f"pressing {direction} on slider {label!r} (value {before} -> {after})"
                ) from exc
            result.latency_ms.append(sample["load"])
            result.latency_src_ms.append(sample["src"])
            result.latency_painted_ms.append(sample["paint"])
            if sample["readout"] is not None:
                result.readout_ms.append(sample["readout"])
            if len(result.latency_ms) == 1:
                result.image_changed = img.evaluate(JS_IMAGE_DIGEST) != digest_before
        result.readouts_after = self.page.evaluate(
            "() => [...new Set(window.__gdvizLat.readouts.map(r => r[1]))]")
        return result

    # -- explorer: what it shows, every slider, mouse drags, the surface menu -----------
    def sliders(self, explorer) -> list[tuple[object, str]]:
        """Every (slider, description) in the explorer, in page order."""
        found = []
        sliders = explorer.locator(".widget-slider")
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            label = slider.locator(".widget-label").first
            found.append((slider, (label.text_content() or "").strip() if label.count() else ""))
        return found

    def explorer_state(self, explorer) -> dict:
        """What a student reads: every slider's description and displayed value, the readout."""
        readout = explorer.locator(".gdviz-readout").first
        return {"sliders": {label: self.slider_value(slider).split("|")[-1]
                            for slider, label in self.sliders(explorer) if label},
                "readout": (readout.inner_text() or "").strip() if readout.count() else ""}

    def _track(self, slider):
        return slider.locator(".noUi-target, .ui-slider").first

    def _wait_settled(self, since_key: str, n: int, settle_ms: float, timeout_s: float) -> dict:
        """After the n-th event of `since_key` ('ups'/'keys'): wait until nothing in the
        explorer changed for settle_ms; return the times of what followed, from that event."""
        return self.page.wait_for_function(
            """([key, n, settle]) => {
              const s = window.__gdvizLat;
              if (s[key].length <= n) return false;
              const e = s[key][n], t0 = Array.isArray(e) ? e[0] : e;
              const now = performance.now();
              if (now - t0 < settle || now - s.mutAt < settle) return false;
              const loads = s.loads.filter(t => t >= t0), paints = s.paints.filter(t => t >= t0);
              const lastLoad = loads.length ? loads[loads.length - 1] : null;
              const paint = lastLoad === null ? null : s.paints.find(t => t >= lastLoad);
              if (lastLoad !== null && paint === undefined) return false;
              const lastMove = s.moves.filter(t => t <= t0).pop();
              return {loads: loads.length, load: lastLoad === null ? null : lastLoad - t0,
                      paint: lastLoad === null ? null : paint - t0,
                      anyLoadSinceLastMove: s.loads.some(t => lastMove !== undefined && t >= lastMove)};
            }""", arg=[since_key, n, settle_ms], timeout=timeout_s * 1000, polling=20).json_value()

    def _drag(self, slider, to_fraction: float, moves: int = 6, step_ms: float = 0,
              rest_ms: float = 0) -> None:
        """Mouse down on the handle, move to `to_fraction` of the track in `moves` steps, up.
        ``step_ms`` between the steps and ``rest_ms`` before the release pace it as a hand
        does (by default it is as fast as the browser takes it)."""
        slider.scroll_into_view_if_needed()
        handle, track = self.slider_handle(slider).bounding_box(), self._track(slider).bounding_box()
        x0, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        x1 = track["x"] + min(max(to_fraction, 0.0), 1.0) * track["width"]
        if to_fraction > 1:
            x1 += 20
        elif to_fraction < 0:
            x1 -= 20
        self.page.mouse.move(x0, y)
        self.page.mouse.down()
        if step_ms:
            for k in range(1, moves + 1):
                self.page.mouse.move(x0 + (x1 - x0) * k / moves, y)
                self.page.wait_for_timeout(step_ms)
        else:
            self.page.mouse.move(x1, y, steps=moves)
        if rest_ms:
            self.page.wait_for_timeout(rest_ms)
        self.page.mouse.up()

    def paced_drag(self, slider, to_fraction: float, rest_ms: float = PACED_REST_MS) -> None:
        """A drag as a hand makes it: PACED_MOVES moves PACED_STEP_MS apart, a ``rest_ms``
        rest on the target (0: a flick, let go while moving), the release."""
        self._drag(slider, to_fraction, moves=PACED_MOVES, step_ms=PACED_STEP_MS, rest_ms=rest_ms)

    def drag_slider(self, explorer, slider, label: str,
                    targets=(0.35, 0.6, 0.45, 0.7, 0.4, 0.55, 0.3, 0.65),
                    settle_ms: float = 250, timeout_s: float = 20,
                    paced: bool = False, rest_ms: float = PACED_REST_MS) -> "SliderDrags":
        """Drag the slider's handle with the mouse to each target (a fraction of the track);
        time each release (mouseup, in the page) to the last new picture painted. ``paced``:
        as a hand drags (:meth:`paced_drag`, resting ``rest_ms``), else at once."""
        result = SliderDrags(label=label, load_average=[round(x, 2) for x in os.getloadavg()])
        self.explorer_image(explorer).scroll_into_view_if_needed()
        explorer.evaluate(JS_INSTRUMENT_EXPLORER)
        readout = explorer.evaluate(JS_READOUT_TEXT)
        for target in targets:
            before = self.slider_value(slider)
            n = self.page.evaluate("() => window.__gdvizLat.ups.length")
            if paced:
                self.paced_drag(slider, target, rest_ms)
            else:
                self._drag(slider, target)
            after = self.slider_value(slider)
            sample = self._wait_settled("ups", n, settle_ms, timeout_s)
            result.values.append(after.split("|")[-1])
            if after == before:
                continue                       # landed where it was: nothing to time
            # No picture after the release: the last one came while the mouse still moved
            # (continuous updates), so the student saw it at the release: 0 ms.
            result.latency_ms.append(max(sample["paint"] or 0.0, 0.0))
            lat = self.page.evaluate("() => window.__gdvizLat")
            result.first_ms.append(first_picture_ms(lat, lat["ups"][n], after.split("|")[-1], readout))
            result.loads_after_release.append(sample["loads"])
        return result

    def fast_drag_ends_on_final_picture(self, explorer, slider, label: str,
                                        settle_ms: float = 600, timeout_s: float = 30) -> dict:
        """Drag from one end of the track to the other as fast as a hand can (3 mouse moves),
        let it settle, and compare the figure with the one drawn for that end value reached
        by the keyboard (Home, then End). Returns the digests and values. Settled means no
        change in the explorer for ``settle_ms``: a late picture of a value passed on the way
        comes within a drawing's time (tens of ms) of the one before it."""
        handle = self.slider_handle(slider)
        img = self.explorer_image(explorer)
        explorer.evaluate(JS_INSTRUMENT_EXPLORER)
        handle.focus()
        self.page.keyboard.press("Home")
        self._wait_settled("keys", 0, settle_ms, timeout_s)
        n = self.page.evaluate("() => window.__gdvizLat.ups.length")
        self._drag(slider, 1.2, moves=3)
        self._wait_settled("ups", n, settle_ms, timeout_s)
        dragged = {"value": self.slider_value(slider), "digest": img.evaluate(JS_IMAGE_DIGEST),
                   "readout": self.explorer_state(explorer)["readout"]}
        handle.focus()
        n_keys = self.page.evaluate("() => window.__gdvizLat.keys.length")
        self.page.keyboard.press("Home")
        self._wait_settled("keys", n_keys, settle_ms, timeout_s)
        self.page.keyboard.press("End")
        self._wait_settled("keys", n_keys + 1, settle_ms, timeout_s)
        keyed = {"value": self.slider_value(slider), "digest": img.evaluate(JS_IMAGE_DIGEST),
                 "readout": self.explorer_state(explorer)["readout"]}
        return {"label": label, "dragged": dragged, "keyed": keyed}

    def change_surface(self, explorer, settle_ms: float = 500, timeout_s: float = 30) -> dict:
        """Pick the next surface in the explorer's menu; then the first one back."""
        select = explorer.locator(".widget-dropdown select").first
        select.scroll_into_view_if_needed()
        img = self.explorer_image(explorer)
        options = select.evaluate("s => [...s.options].map(o => o.value)")
        first = select.evaluate("s => s.value")
        other = options[(options.index(first) + 1) % len(options)]
        explorer.evaluate(JS_INSTRUMENT_EXPLORER)
        digest_before = img.evaluate(JS_IMAGE_DIGEST)
        readout_before = self.explorer_state(explorer)["readout"]
        select.select_option(other)
        self.page.wait_for_function("() => window.__gdvizLat.loads.length > 0",
                                    timeout=timeout_s * 1000, polling=20)
        self.page.wait_for_function(
            "(settle) => performance.now() - window.__gdvizLat.mutAt > settle",
            arg=settle_ms, timeout=timeout_s * 1000, polling=50)
        changed = {"from": first, "to": other, "image_changed": img.evaluate(JS_IMAGE_DIGEST) != digest_before,
                   "readout_before": readout_before, "readout_after": self.explorer_state(explorer)["readout"]}
        select.select_option(first)
        self.page.wait_for_function(
            "(settle) => performance.now() - window.__gdvizLat.mutAt > settle",
            arg=settle_ms, timeout=timeout_s * 1000, polling=50)
        return changed

    # -- explorer: widgets.Play -------------------------------------------------------
    def press_widget_play(self, explorer, want_changes: int = 2, timeout_s: float = 10) -> int:
        """Click the explorer's widgets.Play and count figure changes; then stop it."""
        play = explorer.locator(".widget-play button").first
        play.scroll_into_view_if_needed()
        n0 = self.page.evaluate("() => window.__gdvizLat ? window.__gdvizLat.srcs.length : -1")
        if n0 < 0:
            explorer.evaluate(JS_INSTRUMENT_EXPLORER)
            n0 = 0
        play.click()
        deadline = time.monotonic() + timeout_s
        changes = 0
        while time.monotonic() < deadline:
            changes = self.page.evaluate("() => window.__gdvizLat.srcs.length") - n0
            if changes >= want_changes:
                break
            time.sleep(0.05)
        # Pause where it got to (the screenshot then shows a path part-way), don't Stop (which
        # jumps back to the start). ipywidgets 8: [play/pause, stop, repeat];
        # ipywidgets 7: [play, pause, stop, repeat].
        buttons = explorer.locator(".widget-play button")
        (buttons.nth(1) if buttons.count() >= 4 else buttons.nth(0)).click()
        # Then press End on the slider beside the Play (the step shown), so the screenshot
        # shows the whole path again, as the explorer first opened.
        beside = explorer.locator(".widget-play + .widget-slider, .widget-slider:has(+ .widget-play)")
        if beside.count():
            self.slider_handle(beside.first).focus()
            self.page.keyboard.press("End")
        return changes

    # -- animation player -----------------------------------------------------------
    def press_player(self, index: int = 0, want_frames: int = 3, timeout_s: float = 10) -> dict:
        """Click Play on a `.gdviz-player` and record the distinct frames and pictures shown."""
        root = self.page.locator(".gdviz-player").nth(index)
        root.scroll_into_view_if_needed()
        button = root.locator("button.gdviz-play").first
        before = root.evaluate(JS_PLAYER_STATE)
        label_before = (button.text_content() or "").strip()
        button.click()
        t0 = time.monotonic()
        frames, visuals = [before["frame"]], {before["visual"]}
        while time.monotonic() - t0 < timeout_s:
            state = root.evaluate(JS_PLAYER_STATE)
            if state["frame"] != frames[-1]:
                frames.append(state["frame"])
            visuals.add(state["visual"])
            if len(set(frames)) >= want_frames and len(visuals) >= 2:
                break
            time.sleep(0.04)
        seconds = round(time.monotonic() - t0, 2)
        # Press it again to pause, if it still says something else than before (e.g. "Pause").
        if (button.text_content() or "").strip() != label_before:
            button.click()
        return {"frames": frames, "distinct_visuals": len(visuals), "seconds": seconds}

    # -- screenshot and close ---------------------------------------------------------
    def screenshot(self, path: Path) -> list[Path]:
        """The whole notebook: the viewport is made as tall as the notebook (up to
        MAX_SCREENSHOT_HEIGHT px; a longer notebook continues in NAME_2.png, NAME_3.png...)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{path.stem}_[0-9]*.png"):
            old.unlink()
        scroller_js = """() => {
          const nb = window.jupyterapp.shell.currentWidget.content.node;
          return [nb, ...nb.querySelectorAll('.jp-WindowedPanel-outer')]
            .reduce((a, n) => (n.scrollHeight - n.clientHeight > a.scrollHeight - a.clientHeight ? n : a));
        }"""
        scroller = self.page.evaluate_handle(scroller_js)
        total, visible = scroller.evaluate("n => [n.scrollHeight, n.clientHeight]")
        chrome = VIEWPORT["height"] - visible            # menu, toolbar, status bar
        height = min(total + chrome, MAX_SCREENSHOT_HEIGHT)
        step = height - chrome
        shots = []
        try:
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
            for i, top in enumerate(range(0, max(total, 1), max(step, 1))):
                scroller.evaluate("(n, top) => { n.scrollTop = top; }", top)
                self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                self.page.wait_for_timeout(250)
                shot = path if i == 0 else path.with_name(f"{path.stem}_{i + 1}.png")
                self.page.screenshot(path=str(shot))
                shots.append(shot)
        finally:
            self.page.set_viewport_size(VIEWPORT)
        return shots

    def close(self) -> None:
        try:
            self.server.shutdown_kernels_for(self.nb_path)
        finally:
            self.page.close()


# --------------------------------------------------------------------------------------
# Latency record
# --------------------------------------------------------------------------------------
class LatencyLog:
    """Collects slider timings per notebook; writes artifacts/browser_latency.json."""

    def __init__(self):
        self.notebooks: dict[str, dict] = {}
        self.fixture: dict[str, dict] = {}
        self.timings: dict[str, dict] = {}
        self.samples: dict[str, list] = {}
        self.drags: dict[str, dict] = {}
        self.drag_samples: dict[str, list] = {}
        self.checks: dict[str, dict] = {}

    def add(self, name: str, moves: SliderMoves, is_fixture: bool = False) -> None:
        (self.fixture if is_fixture else self.notebooks)[name] = moves.summary()
        self.samples[name] = list(moves.latency_ms)

    def add_drags(self, name: str, drags: SliderDrags) -> None:
        self.drags[name] = drags.summary()
        self.drag_samples[name] = list(drags.latency_ms)

    def add_check(self, name: str, what: str, value) -> None:
        """Other measurements worth keeping with the run (fast drag, surface menu, ...)."""
        self.checks.setdefault(name, {})[what] = value

    def add_timings(self, name: str, timings: dict) -> None:
        self.timings[name] = timings

    def report(self) -> dict | None:
        if not self.notebooks and not self.fixture and not self.timings and not self.drags:
            return None
        source = self.notebooks or self.fixture
        samples = [x for name in source for x in self.samples[name]]
        median = round(statistics.median(samples), 1) if samples else None
        drag_samples = [x for name in self.drags if name in self.notebooks or not self.notebooks
                        for x in self.drag_samples[name]]
        return {
            "what": "user-visible η-slider latency in JupyterLab: in-page keydown (ArrowRight/"
                    "ArrowLeft on the focused slider handle) to the explorer's new figure "
                    "<img> having loaded; median_src_ms is to the <img src> change, "
                    "median_painted_ms to two animation frames after the load",
            "source": ("notebooks" if self.notebooks else
                       "harness fixture notebook" if self.fixture else "none measured"),
            "median_ms": median,
            "moves": len(samples),
            "target_ms": LATENCY_TARGET_MS,
            "meets_target": None if median is None else median <= LATENCY_TARGET_MS,
            "median_drag_ms": round(statistics.median(drag_samples), 1) if drag_samples else None,
            "drag_what": "mouse drag on the first explorer's η slider (down on the handle, 6 moves, "
                         "up): in-page mouseup to two animation frames after the last new figure "
                         "loaded (0 if the last figure came before the release)",
            "drags": len(drag_samples),
            "drag_target_ms": DRAG_TARGET_MS,
            "drag_meets_target": {name: drag["median_ms"] is not None
                                  and drag["median_ms"] <= DRAG_TARGET_MS
                                  for name, drag in self.drags.items()},
            "first_drag_what": "the same drags: mouseup to two animation frames after the first "
                               "picture of the value released on (the page's own drawing from "
                               "the kernel's sketch, gdviz/explorer/page_drawing.py, which the "
                               "kernel's picture replaces; 0 if it was shown before the release)",
            "first_drag_meets_target": {name: drag.get("median_first_ms") is not None
                                        and drag["median_first_ms"] <= DRAG_TARGET_MS
                                        for name, drag in self.drags.items()},
            "per_notebook": self.notebooks,
            "per_notebook_drag": self.drags,
            "checks": self.checks,
            "harness_fixture": self.fixture,
            "notebook_seconds": self.timings,
            "chromium": find_chromium(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "cpu_count": os.cpu_count(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def write(self) -> dict | None:
        data = self.report()
        if data is None:
            return None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        LATENCY_JSON.write_text(json.dumps(data, indent=2) + "\n")
        return data


# --------------------------------------------------------------------------------------
# A small notebook that meets the page contract, to prove the harness on
# --------------------------------------------------------------------------------------
def _code(src: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": src.strip("\n"), "outputs": [],
            "execution_count": None}


def code_notebook(*sources: str) -> dict:
    """A notebook of these code cells."""
    return {"cells": [_code(src) for src in sources], "metadata": {}, "nbformat": 4,
            "nbformat_minor": 5}


FIXTURE_EXPLORER = r'''
import io
import math
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display

fig, ax = plt.subplots(figsize=(5, 3.2))
plt.close(fig)
image = widgets.Image(format="png")
readout = widgets.HTML()
readout.add_class("gdviz-readout")
eta = widgets.FloatLogSlider(value=0.05, base=10, min=-3, max=0, step=0.1,
                             description="η", continuous_update=False)
alpha = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="α")
steps = widgets.IntSlider(value=20, min=1, max=40, description="steps")
play = widgets.Play(value=20, min=1, max=40, step=1, interval=100)
widgets.jslink((play, "value"), (steps, "value"))

def render(lr, n, a):
    x, v, xs, text = 3.0, 0.0, [3.0], None
    for k in range(n):
        v = a * v - lr * 2 * x        # heavy ball: α is the momentum
        x = x + v
        xs.append(x)
        if not np.isfinite(x) or abs(x) > 1e6:
            text = f"diverged at step {k + 1}"
            break
    ax.clear()
    ax.plot(xs, "o-")
    ax.set_title(f"heavy ball on x², η = {lr:.3g}, α = {a:.2f}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue(), text or f"final loss {xs[-1] ** 2:.1e}"

# Every figure the η slider can ask for (at the starting number of steps) is drawn up front,
# so moving η here times the browser -> kernel -> browser round trip alone: the floor under
# any real explorer's latency.
cache = {}
def key(lr, n, a):
    return round(math.log10(lr), 3), n, round(a, 2)
for e in np.arange(-30, 1) / 10:
    cache[key(10 ** e, steps.value, alpha.value)] = render(10 ** e, steps.value, alpha.value)

def redraw(*_):
    k = key(eta.value, steps.value, alpha.value)
    if k not in cache:
        cache[k] = render(eta.value, steps.value, alpha.value)
    image.value, readout.value = cache[k]

for w in (eta, alpha, steps):
    w.observe(redraw, "value")
explorer = widgets.VBox([eta, alpha, widgets.HBox([play, steps]), image, readout])
explorer.add_class("gdviz-explorer")
redraw()
display(explorer)
'''

FIXTURE_PLAYER = r'''
import uuid
from IPython.display import HTML
uid = "gdviz-player-" + uuid.uuid4().hex
HTML(f"""
<div class="gdviz-player" id="{uid}">
  <canvas width="240" height="60" style="border:1px solid #ccc"></canvas><br>
  <button class="gdviz-play">Play</button> frame <span class="gdviz-frame">0</span>
</div>
<script>
(function () {{
  const root = document.getElementById("{uid}");
  const ctx = root.querySelector("canvas").getContext("2d");
  const frame = root.querySelector(".gdviz-frame"), button = root.querySelector(".gdviz-play");
  let i = 0, timer = null;
  function draw() {{
    ctx.clearRect(0, 0, 240, 60); ctx.fillStyle = "#1f77b4"; ctx.fillRect((i * 8) % 230, 25, 10, 10);
    frame.textContent = String(i);
  }}
  button.addEventListener("click", () => {{
    if (timer) {{ clearInterval(timer); timer = null; button.textContent = "Play"; return; }}
    button.textContent = "Pause";
    timer = setInterval(() => {{ i = (i + 1) % 30; draw(); }}, 80);
  }});
  draw();
}})();
</script>
""")
'''


def fixture_notebook() -> dict:
    """A notebook with an inline figure, a gdviz-style explorer and an HTML player."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# browser-harness fixture"},
        _code("import matplotlib.pyplot as plt\nimport numpy as np\n"
              "plt.plot(np.arange(10) ** 2)\nplt.show()"),
        _code(FIXTURE_EXPLORER),
        _code(FIXTURE_PLAYER),
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def broken_notebook() -> dict:
    """A notebook whose second cell writes to stderr, third raises under the raises-exception
    tag (JupyterLab runs on past it), fourth raises: all must be caught."""
    excused = _code("assert 1 + 1 == 3, 'a false claim in an excused cell'")
    excused["metadata"]["tags"] = ["raises-exception"]
    cells = [
        _code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"),
        _code("import sys\nprint('something went wrong', file=sys.stderr)"),
        excused,
        _code("1 / 0"),
        _code("print('never runs')"),
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
