"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session.

Outside CI a missing Playwright, Chromium or JupyterLab skips these tests with the reason;
with CI=true it fails them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jlab_harness as h  # noqa: E402

from jlab_harness import FIXTURE_DIR, NOTEBOOKS_DIR  # noqa: E402

_latency = h.LatencyLog()


def pytest_configure(config):
    # pyproject.toml registers it too; this keeps `pytest tests/browser` alone warning-free.
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium")


def _unavailable(reason: str):
    if h.in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _unavailable(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    try:
        import jupyterlab  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        _unavailable(f"jupyterlab is not installed ({exc}); pip install -e '.[test]'")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_api):
    executable = h.find_chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set GDVIZ_CHROMIUM)")
    try:
        browser = playwright_api.chromium.launch(executable_path=executable, headless=True,
                                                 args=h.CHROMIUM_ARGS)
    except Exception as exc:
        _unavailable(f"Chromium at {executable} would not start: {exc}")
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    context = browser.new_context(viewport=h.VIEWPORT, device_scale_factor=1)
    yield context
    context.close()


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory, browser):  # the browser first: skip/fail before starting a server
    """JupyterLab serving copies of notebooks/ plus the harness's own fixture notebooks."""
    server = h.JupyterLabServer(tmp_path_factory.mktemp("jupyterlab"))
    if NOTEBOOKS_DIR.is_dir():
        server.copy_tree(NOTEBOOKS_DIR)
    server.add_notebook_json(h.fixture_notebook(), f"{FIXTURE_DIR}/fixture.ipynb")
    server.add_notebook_json(h.broken_notebook(), f"{FIXTURE_DIR}/broken.ipynb")
    yield from h.serving(server)


@pytest.fixture
def notebook_session(jupyterlab, browser_context, request):
    """Factory: open a notebook in a new tab; the kernel is shut down and the tab closed after."""
    sessions = []

    def open_notebook(nb_path: str) -> h.NotebookSession:
        session = h.NotebookSession(jupyterlab, browser_context, nb_path)
        sessions.append(session)
        session.open()
        return session

    yield open_notebook
    for session in sessions:
        try:
            session.close()
        except Exception as exc:  # never hide the test's own failure behind this
            print(f"[browser] closing {session.nb_path}: {exc}")


@pytest.fixture(scope="session")
def latency_log():
    return _latency


def pytest_sessionfinish(session, exitstatus):
    data = _latency.write()
    if data is not None:
        session.config._gdviz_latency = data


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    data = getattr(config, "_gdviz_latency", None)
    if not data:
        return
    tr = terminalreporter
    tr.section("gdviz browser latency")
    if data["median_ms"] is not None:
        tr.write_line(f"η slider, key press -> new figure loaded ({data['source']}): "
                      f"median {data['median_ms']} ms over {data['moves']} moves "
                      f"(target <= {data['target_ms']:.0f} ms: "
                      f"{'met' if data['meets_target'] else 'NOT met'})")
    for name, summary in {**data["per_notebook"], **data["harness_fixture"]}.items():
        tr.write_line(f"  {name}: median {summary['median_ms']} ms (src {summary['median_src_ms']}, "
                      f"painted {summary['median_painted_ms']}, readout "
                      f"{summary['median_readout_ms']}), min {summary['min_ms']}, "
                      f"max {summary['max_ms']}, n={summary['moves']}")
    if data.get("median_drag_ms") is not None:
        tr.write_line(f"η slider, mouse drag released -> new figure painted: median "
                      f"{data['median_drag_ms']} ms over {data['drags']} drags")
    for name, summary in data.get("per_notebook_drag", {}).items():
        tr.write_line(f"  {name}: drag median {summary['median_ms']} ms, min {summary['min_ms']}, "
                      f"max {summary['max_ms']}, n={summary['drags']}")
    for name, timings in data["notebook_seconds"].items():
        tr.write_line(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    tr.write_line(f"written to {h.LATENCY_JSON}")
