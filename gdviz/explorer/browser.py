"""The explorer's pictures kept in the browser, so that a picture drawn before, or drawn ahead
while the kernel was idle, shows the moment a slider is released (and while its handle is
dragged over it), without a round trip to the kernel. A page that starts keeping pictures
says so, and the explorer then draws ahead for it once no cell runs (:mod:`.ahead`).

Every picture the explorer draws is also sent here once, with the value of every control it
was drawn for, as the controls' models in the page hold them (a grid slider's or a menu's
index, an integer slider's value). The JavaScript half (``gdviz/static/browser_cache.js``)
keeps them by those values and, whenever a control changes in the page, shows the kept
picture and readout of the controls' new values, if it has them, by setting the picture's
and the readout's models in the page. The kernel then sends the same picture, which changes
nothing, since it is the one shown. Besides, the page draws a picture of η itself from the
kernel's sketch (:mod:`.page_drawing`: the same runs and drawing, as data) when it keeps no
picture of those values yet, and shows it until the kernel's own picture comes.

It needs a custom widget's front end: anywidget (an optional dependency, the ``lab`` extra),
installed where the Jupyter server runs (JupyterLab, Notebook 7, the classic Notebook). The
widget is never displayed: its model alone does the work, so where its front end is missing
nothing shows and the explorer works as before, a round trip per move. Colab loads custom
widgets only through a widget manager of its own, which would change how every widget of the
notebook renders; there the explorer goes without it.
"""
from __future__ import annotations

import threading
import time
from collections import deque

import ipywidgets as widgets
import traitlets

from ..animation import _static
from .cache import Picture
from .offline import in_colab

__all__ = ["BrowserCache", "BROWSER_BYTES", "browser_cache_available"]

#: Bytes of pictures one explorer keeps in the browser, least recently shown let go first.
BROWSER_BYTES = 48 * 2 ** 20
#: Pictures sent and not yet acknowledged by the page, at most (about 1 MB): on a slow
#: connection (Binder, a JupyterHub far away) pictures drawn ahead wait in the kernel instead of
#: in the websocket, ahead of the picture the student asks for next; with no front end to
#: acknowledge them (nbval, a front end without anywidget) no more than these are ever sent.
IN_FLIGHT = 32
#: The page acknowledges every ACK_EVERY pictures (in browser_cache.js), by how many it has
#: kept since it started. Not one by one: each message to the kernel costs a busy/idle round
#: of status messages, which the front end shows (its kernel indicator blinks) and redraws its
#: toolbar for (~5 ms each in a profile of JupyterLab): about 18 per η grid drawn ahead.
ACK_EVERY = 16
#: Pictures waiting to be sent, at most (beyond it the oldest are dropped).
WAITING = 1024
#: Seconds a hold from the page lasts at most (a page gone mid-drag does not hold for ever).
HOLD_AT_MOST = 10.0

try:
    import anywidget
except ImportError:             # the `lab` extra is not installed: a round trip per move
    anywidget = None


def browser_cache_available() -> bool:
    """Is there a browser cache to use here (anywidget installed, and not in Colab)?"""
    return anywidget is not None and not in_colab()


if anywidget is not None:
    class BrowserCache(anywidget.AnyWidget):
        """Keeps the explorer's pictures in the page by the values of its ``controls``.

        ``controls`` are the widgets a picture depends on and ``control_traits`` the trait of each
        that its model in the page moves (``index`` or ``value``); ``image`` and ``readout``
        are the widgets it sets when the controls reach values whose picture it keeps.
        """

        _esm = _static("scene_draw.js") + "\n" + _static("browser_cache.js")
        image = traitlets.Instance(widgets.Widget).tag(sync=True, **widgets.widget_serialization)
        readout = traitlets.Instance(widgets.Widget).tag(sync=True, **widgets.widget_serialization)
        controls = traitlets.List(traitlets.Instance(widgets.Widget)).tag(
            sync=True, **widgets.widget_serialization)
        control_traits = traitlets.List(traitlets.Unicode()).tag(sync=True)
        max_bytes = traitlets.Int(BROWSER_BYTES).tag(sync=True)
        ack_every = traitlets.Int(ACK_EVERY).tag(sync=True)

        def __init__(self, *, image, readout, controls: list[tuple[widgets.Widget, str]],
                     on_started=None, on_want=None):
            super().__init__(image=image, readout=readout,
                             controls=[widget for widget, _ in controls],
                             control_traits=[trait for _, trait in controls])
            self.on_started = on_started    # called when a page starts keeping pictures
            self.on_want = on_want          # called with the values a held handle is over
            self.n_sent = 0             # pictures sent to the page
            self.n_acknowledged = 0     # of them, kept by the page (it says so)
            self._page_start = 0        # pictures sent before the page (re)started
            self._waiting: deque = deque(maxlen=WAITING)
            self._held_since: float | None = None   # a handle held in the page, since when
            self._lock = threading.Lock()   # acknowledgements come on the kernel's shell thread
            self.sketch_key = None      # what the sketch the page has was made for
            self.page_started = False   # has a page's module said it started (it listens)?
            self.on_msg(self._on_page_message)

        def keep(self, key: list[int], picture: Picture, *, now: bool = False) -> None:
            """Send one picture to the page, to be kept under ``key``: the value of each
            control (in the order of ``controls``) it was drawn for. At most IN_FLIGHT go
            unacknowledged; the others wait here, in the order drawn (nearest first).
            ``now``: the page asked for it (a handle held over its values): it goes at once."""
            with self._lock:
                if now:
                    self._send_picture(list(key), picture)
                    return
                self._waiting.append((list(key), picture))
                self._send_waiting()

        def send_sketch(self, made_for, sketch: dict, background: bytes) -> None:
            """Send the page a sketch (:mod:`.page_drawing`) and the background it goes over;
            ``made_for`` is what a whole one holds for (:attr:`sketch_key` until the page starts
            again; None for a first one, without the marks of the runs that diverged)."""
            self.send({"sketch": sketch}, buffers=[background])
            if made_for is not None:
                self.sketch_key = made_for

        def _send_picture(self, key: list[int], picture: Picture) -> None:
            self.send({"key": key, "readout": picture.readout}, buffers=[picture.png])
            self.n_sent += 1

        @property
        def holding(self) -> bool:
            """Is a slider's handle held in the page (for at most HOLD_AT_MOST seconds)?
            Pictures drawn ahead then wait here, and drawing ahead pauses (:mod:`.ahead`)."""
            since = self._held_since
            return since is not None and time.monotonic() - since < HOLD_AT_MOST

        def _send_waiting(self) -> None:
            if self.holding:
                return
            while self._waiting and self.n_sent - self.n_acknowledged < IN_FLIGHT:
                self._send_picture(*self._waiting.popleft())

        def _on_page_message(self, _widget, content, _buffers) -> None:
            """``{"started": true}`` when the page's module starts (a new page: what was in
            flight to the old one is gone), then ``{"kept": n}``, the pictures it has kept,
            ``{"hold": true}`` / ``{"hold": false}`` when a slider's handle is pressed and
            released, and ``{"want": key}`` while it is held over values not kept (the
            explorer draws that picture at once: ``on_want(key)``)."""
            if not isinstance(content, dict):
                return
            started = content.get("started") is True
            want = content.get("want")
            if isinstance(want, list) and len(want) == len(self.controls) and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in want):
                if self.on_want is not None:
                    self.on_want(want)
                return
            with self._lock:
                if started:
                    self._page_start = self.n_acknowledged = self.n_sent
                    self._held_since = None
                    self.sketch_key, self.page_started = None, True
                elif isinstance(content.get("hold"), bool):
                    # released: what waits goes with the next picture kept, after the picture
                    # of the release (whose change came just before and is drawn next)
                    self._held_since = time.monotonic() if content["hold"] else None
                    return
                elif isinstance(content.get("kept"), int) and not isinstance(content["kept"], bool):
                    self.n_acknowledged = min(self.n_sent, max(self.n_acknowledged,
                                                               self._page_start + content["kept"]))
                else:
                    return
                self._send_waiting()
            if started and self.on_started is not None:
                self.on_started()

        def close(self) -> None:
            """Close it and its Layout widget (a registered widget too); let the pictures go."""
            with self._lock:
                self._waiting.clear()
            self.layout.close()
            super().close()
else:
    BrowserCache = None
