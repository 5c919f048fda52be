"""Where the time goes after a mouse drag on the explorer's η slider. Prints ONE JSON object.

    python benchmarks/bench_explorer_latency.py [--notebooks 01 05] [--port 8872] [--drags 8]
                                                [--settle 20] [--paced [--rest-ms 0]]

Kernel side ("kernel_cpu_ms", in this process, CPU time so that a loaded machine reads the
same): one slider change of each notebook's explorer, split into the runs, the redraw (a
scene over the kept background) and the PNG encoding, with the PNG's size, and a setting seen
before ("cached": sent from the explorer's picture cache), and how long after "Run all" a
page has every η drawn ahead ("ahead_first_eta_s" for the slider dragged, "ahead_all_eta_s":
IDLE_BEFORE, then the pieces' CPU time and a PREFETCH_PAUSE each), and how long after it the
page has the sketch it draws any η's picture from ("sketch_s": IDLE_BEFORE and the sketch's
CPU time, "first_sketch_s" for the first one, without the marks of the runs that diverged;
"sketch_bytes": its message). Browser side ("browser",
JupyterLab 4 with ipywidgets 8 in headless Chromium, driven by tests/browser/jlab_harness.py):
each notebook is run, then its η slider is dragged with the mouse ("drag": mouseup → the new
picture painted, median "total_ms" to the last picture and "first_ms" to the first picture of
the value released on, which the page may draw itself from the sketch ("page_drew": the drags
in which it drew, around the release; "sketch_after_run_all_s": when the sketch came, from the
end of "Run all" as the harness sees it); "cached" says how
many of the pictures came from the cache), first at once ("drag": drawing ahead starts 0.3 s
after "Run all", where the page keeps pictures, else at the first touch), then after --settle seconds of idle kernel
("drag_after_idle", other targets: the pictures drawn ahead), and moved with the arrow keys
("key_ms"). With --paced the first drags are made as a hand makes them: 300 ms of movement
and a rest before the release, in which the page asks the kernel for the picture under the
hand ("drag_paced": true). "from_page" counts the drags whose picture the page showed from
the pictures it keeps (gdviz/explorer/browser.py: the <img> changed before a picture-sized
message came from the kernel, or while the handle moved, when "total_ms" is 0: nothing new
after the release). Each drag's time is
split, by wall clock (one machine), into "to_kernel_ms" (mouseup → the kernel has the value:
the widget's JavaScript, the websocket, the server, ZeroMQ), "in_kernel_ms" (run, redraw,
encode; "kernel_cpu_ms" of it on the CPU, the rest waiting for it), "to_page_ms" (picture sent
→ loaded in the page: the way back plus the image decode, "decode_ms" alone), split into
"to_websocket_ms" (sent → its message, the last one over 10 kB, arrives on the page's
websocket: the kernel's IOPub thread, ZeroMQ, the server) and "websocket_to_load_ms" (the
widget's JavaScript, the image decode), and "paint_ms".
The kernel reports its side through GDVIZ_EXPLORER_TIMINGS (gdviz/explorer/wiring.py). Every
number comes with the load average at the time (the machine is shared).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests" / "browser"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from gdviz import run  # noqa: E402
from gdviz.explorer import ahead, explore  # noqa: E402
from jlab_harness import PACED_REST_MS  # noqa: E402

#: Each notebook's explorer call (as in notebooks/0N_*.ipynb).

EXPLORERS = {
    "01": (("SGD", "elongated_bowl"), {"steps": 40, "lr": 0.95}),
    "02": ((["Momentum", "Nesterov"], "elongated_bowl"), {"steps": 60, "lr": 0.1, "momentum": 0.9}),
    "03": ((["SGD", "AdaGrad"], "elongated_bowl"), {"steps": 30}),
    "04": ((["AdaGrad", "RMSprop"], "elongated_bowl"), {"steps": 200, "lr": 0.03}),
    "05": ((["Adam", "AdamW"], "himmelblau"), {"steps": 200, "lr": 0.1}),
    "06": ((["SGD", "Momentum", "Adam"], "saddle"), {"steps": 60, "lr": 0.1}),
    "07": ((["SGD", "Momentum", "Adam"], "elongated_bowl"), {"steps": 30}),
}

# Before the page's own scripts: note when each websocket message arrives, and its size.
JS_WEBSOCKET = """(() => {
  window.__gdvizWs = [];
  const Original = window.WebSocket;
  const Wrapped = function (...args) {
    const socket = new Original(...args);
    socket.addEventListener('message', e => window.__gdvizWs.push([performance.now(),
      typeof e.data === 'string' ? e.data.length : (e.data.byteLength || e.data.size || 0)]));
    return socket;
  };
  Wrapped.prototype = Original.prototype;
  Object.assign(Wrapped, Original);
  window.WebSocket = Wrapped;
  // when a page got the sketch it draws η's pictures from (gdviz/static/browser_cache.js)
  window.__gdvizSketches = [];
  document.addEventListener('gdviz-sketch', () => window.__gdvizSketches.push(performance.now()));
})();"""

JS_DECODE = """async (img) => {
  const blob = await (await fetch(img.src)).blob();
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const bitmap = await createImageBitmap(blob);
    times.push(performance.now() - t);
    bitmap.close();
  }
  times.sort((a, b) => a - b);
  return {ms: times[2], bytes: blob.size};
}"""


def cpu_ms(action, repeats: int = 15) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        action()
        times.append((time.process_time() - start) * 1000)
    return round(statistics.median(times), 2)


def kernel_side(notebook: str) -> dict:
    args, kwargs = EXPLORERS[notebook]
    explorer = explore(*args, **kwargs)
    name = explorer.optimizers[0]
    slider = explorer.hyperparameter_sliders[name]["lr"]
    start = slider.index
    values = iter([slider.grid[start + (i % 20) - 10] for i in range(1000)])

    def move():
        slider.value = next(values)

    result = {"change": cpu_ms(move),
              "runs": cpu_ms(lambda: [run(n, explorer.surface, explorer.start, kwargs["steps"],
                                          **explorer.hyperparameters(n))
                                      for n in explorer.optimizers]),
              "redraw": cpu_ms(explorer._compose), "encode": cpu_ms(explorer.view.encode),
              "png_bytes": len(explorer.view.encode())}
    seen = [slider.grid[start + (i % 2)] for i in range(1000)]      # both kept after two moves
    result["cached"] = cpu_ms(lambda: setattr(slider, "value", seen.pop()))
    explorer.close()
    result.update(drawing_ahead(notebook))
    return result


def drawing_ahead(notebook: str) -> dict:
    """How long after "Run all" the kernel has drawn every η ahead for a page that keeps
    pictures (gdviz/explorer/ahead.py), on a quiet machine: IDLE_BEFORE, then the pieces'
    CPU time and a PREFETCH_PAUSE after each ("ahead_first_eta_s": the first optimizer's η
    slider, the one dragged; "ahead_all_eta_s": every η slider)."""
    from gdviz.explorer.page_drawing import sketch_pieces
    args, kwargs = EXPLORERS[notebook]
    explorer = explore(*args, **kwargs)
    began, sent = time.process_time(), []
    for made in sketch_pieces(explorer):
        if made is not None:        # the first (without the marks of runs that diverged), the whole
            sent.append((ahead.IDLE_BEFORE + time.process_time() - began,
                         len(json.dumps(made[0])) + len(made[1])))
    (first_s, first_bytes), (whole_s, whole_bytes) = sent
    sketched = {"first_sketch_s": round(first_s, 3), "sketch_s": round(whole_s, 3),
                "sketch_bytes": whole_bytes}
    name = explorer.optimizers[0]
    first = {explorer.settings().with_value(name, "lr", value)
             for value in explorer.hyperparameter_sliders[name]["lr"].grid}
    explorer.prefetch(None)         # as a page that starts does, with no loop: piece by piece
    pieces, first_done, began = 0, None, time.process_time()
    while explorer.prefetch_step():
        pieces += 1
        if first_done is None and first <= set(explorer.cache._pictures):
            first_done = (time.process_time() - began, pieces)
    cpu = time.process_time() - began
    explorer.close()

    def after_run_all(cpu_s: float, n: int) -> float:
        return round(ahead.IDLE_BEFORE + cpu_s + n * ahead.PREFETCH_PAUSE, 2)
    return {**sketched, "ahead_first_eta_s": after_run_all(*first_done) if first_done else None,
            "ahead_all_eta_s": after_run_all(cpu, pieces), "ahead_pieces": pieces}


def drag_breakdown(session, explorer, slider, label, targets, timings: Path,
                   paced: bool = False, rest_ms: float = PACED_REST_MS) -> dict:
    """Drag to each target; split each release → picture painted into its parts (wall clock,
    one machine): to the kernel, in the kernel, back to the page (server, websocket, the
    widget's JavaScript, the image's decode), and the paint."""
    import jlab_harness as h
    session.explorer_image(explorer).scroll_into_view_if_needed()
    explorer.evaluate(h.JS_INSTRUMENT_EXPLORER)
    parts = {k: [] for k in ("total", "to_kernel", "in_kernel", "kernel_cpu", "to_page",
                             "to_websocket", "websocket_to_load", "paint")}
    pictures, cached, from_page, first, drew = [], [], [], [], []
    readout = explorer.evaluate(h.JS_READOUT_TEXT)
    for target in targets:
        before = session.slider_value(slider)
        n = session.page.evaluate("() => window.__gdvizLat.ups.length")
        done = len(timings.read_text().splitlines()) if timings.exists() else 0
        if paced:               # as a hand drags: 300 ms of moves, a rest, the release
            session.paced_drag(slider, target, rest_ms)
        else:
            session._drag(slider, target)
        if session.slider_value(slider) == before:
            continue
        session._wait_settled("ups", n, 300, 30)
        lat = session.page.evaluate("() => ({origin: performance.timeOrigin, s: window.__gdvizLat,"
                                    " ws: window.__gdvizWs || []})")
        origin, st = lat["origin"], lat["s"]
        up = st["ups"][n]
        # the first picture of the value (the page's own, drawn from the sketch, may come
        # before the kernel's; "total" is to the last picture)
        first.append(h.first_picture_ms(st, up, session.slider_value(slider).split("|")[-1], readout))
        drew.append(any(up - 500 <= at <= up + 300 for at, _ in st["drawn"]))
        loads = [t for t in st["loads"] if t >= up]
        pictures.append(len(loads))
        if not loads:           # the page showed it while the handle moved: painted at the release
            held = [t for t in st["loads"] if t < up]
            parts["total"].append(0.0)
            from_page.append(bool(held))
            continue
        paint = next(t for t in st["paints"] if t >= loads[-1])
        records = [json.loads(line) for line in timings.read_text().splitlines()[done:]]
        last = records[-1]
        cached.append(bool(last.get("cached")))
        up_s, load_s = (origin + up) / 1000, (origin + loads[-1]) / 1000
        # the picture came from the page (gdviz/explorer/browser.py): its <img> changed
        # before any picture-sized message had come from the kernel
        changed = next((t for t, _ in st["srcs"] if t >= up), None)
        first_big = next((t for t, size in lat["ws"] if t >= up and size > 10_000), None)
        from_page.append(changed is not None and (first_big is None or changed < first_big))
        parts["total"].append(paint - up)
        parts["to_kernel"].append((records[0]["received"] - up_s) * 1000)
        parts["in_kernel"].append((last["sent"] - records[0]["received"]) * 1000)
        parts["kernel_cpu"].append(sum(r["cpu_ms"] for r in records))
        parts["to_page"].append((load_s - last["sent"]) * 1000)
        big = [t for t, size in lat["ws"] if up <= t <= loads[-1] and size > 10_000]
        if big:
            parts["to_websocket"].append(big[-1] - (last["sent"] * 1000 - origin))
            parts["websocket_to_load"].append(loads[-1] - big[-1])
        parts["paint"].append(paint - loads[-1])
    summary = {f"{k}_ms": round(statistics.median(v), 1) for k, v in parts.items() if v}
    firsts = [x for x in first if x is not None]
    summary["first_ms"] = round(statistics.median(firsts), 1) if firsts else None
    return {**summary, "drags": len(parts["total"]), "pictures_per_release": pictures,
            "first_samples_ms": [None if x is None else round(x, 1) for x in first],
            "page_drew": sum(drew),
            "cached": sum(cached), "from_page": sum(from_page),
            "total_samples_ms": [round(x, 1) for x in parts["total"]]}


def browser_side(notebooks, port: int, drags: int, settle: float, paced: bool = False,
                 rest_ms: float = PACED_REST_MS) -> dict:
    import jlab_harness as h
    from playwright.sync_api import sync_playwright
    out = {}
    with tempfile.TemporaryDirectory() as base, sync_playwright() as pw:
        timings = Path(base) / "kernel_timings.jsonl"
        os.environ["GDVIZ_EXPLORER_TIMINGS"] = str(timings)     # the kernels inherit it
        server = h.JupyterLabServer(Path(base))
        server.port, server.url = port, f"http://127.0.0.1:{port}"
        paths = {n: server.add_notebook(next((ROOT / "notebooks").glob(f"{n}_*.ipynb")))
                 for n in notebooks}
        server.start()
        browser = pw.chromium.launch(executable_path=h.find_chromium(), headless=True,
                                     args=h.CHROMIUM_ARGS)
        context = browser.new_context(viewport=h.VIEWPORT, device_scale_factor=1)
        context.add_init_script(JS_WEBSOCKET)
        try:
            for notebook, nb_path in paths.items():
                session = h.NotebookSession(server, context, nb_path)
                session.open()
                session.run_all(timeout_s=600)
                run_all_done = session.page.evaluate("() => performance.now()")
                explorer = session.explorer(0)
                slider, label = session.eta_slider(explorer)
                load = [round(x, 2) for x in os.getloadavg()]
                targets = [0.35, 0.6, 0.45, 0.7, 0.4, 0.55, 0.3, 0.65][:drags]
                dragged = drag_breakdown(session, explorer, slider, label, targets, timings,
                                         paced=paced, rest_ms=rest_ms)
                time.sleep(settle)          # the kernel draws ahead meanwhile
                others = [t - 0.025 for t in targets]
                idle = drag_breakdown(session, explorer, slider, label, others, timings)
                keyed = session.move_slider(explorer, slider, label, moves=8)
                decode = session.explorer_image(explorer).evaluate(JS_DECODE)
                sketches = session.page.evaluate("() => window.__gdvizSketches")
                out[notebook] = {"sketch_after_run_all_s": (round((sketches[0] - run_all_done) / 1000, 2)
                                                            if sketches else None),
                                 "drag": dragged, "drag_paced": paced,
                                 "paced_rest_ms": rest_ms if paced else None,
                                 "drag_after_idle": idle,
                                 "key_ms": keyed.summary()["median_ms"],
                                 "decode_ms": round(decode["ms"], 2), "png_bytes": decode["bytes"],
                                 "load_average": load}
                server.shutdown_kernels_for(nb_path)
                session.close()
        finally:
            browser.close()
            server.stop()
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notebooks", nargs="+", default=list(EXPLORERS))
    parser.add_argument("--port", type=int, default=8872)
    parser.add_argument("--drags", type=int, default=8)
    parser.add_argument("--settle", type=float, default=20.0,
                        help="seconds of idle kernel between the first drags and the next")
    parser.add_argument("--kernel-only", action="store_true")
    parser.add_argument("--paced", action="store_true",
                        help="the first drags as a hand makes them: 15 moves over 300 ms, a "
                             f"{PACED_REST_MS} ms rest on the target, the release")
    parser.add_argument("--rest-ms", type=float, default=PACED_REST_MS,
                        help="with --paced: the rest before the release (0: a flick, let go "
                             "while moving)")
    args = parser.parse_args(argv)
    result = {"load_average_start": [round(x, 2) for x in os.getloadavg()],
              "kernel_cpu_ms": {n: kernel_side(n) for n in args.notebooks}}
    if not args.kernel_only:
        result["browser"] = browser_side(args.notebooks, args.port, args.drags, args.settle,
                                         args.paced, args.rest_ms)
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
