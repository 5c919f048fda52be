// The explorer's pictures kept in the page (gdviz/explorer/browser.py). The kernel sends every
// picture it draws, with the value of every control it was drawn for, as the controls' models
// in the page hold them. When those models reach values whose picture is kept (a slider
// released, a key pressed, Play), the picture and its readout are shown at once, by setting
// the picture's and the readout's models in the page; the kernel's own picture for those
// values comes a moment later with the same bytes, which changes nothing.
// While a slider's handle is dragged, its model keeps its value until the release, but the
// slider's own readout shows each value the handle passes (ipywidgets 7 and 8 alike): a kept
// picture of that value is shown at once, so the picture follows the hand; at the release it
// is the picture of the models' values again (or, if that one is not kept, the one shown
// before the drag, until the kernel's comes). Over values not kept, the page asks the kernel
// for that picture (at most every ASK_MS), which it draws at once: where the hand rests before
// the release, its picture comes while the handle is still held. While the handle is held, the
// kernel holds back the pictures it draws ahead, so that neither the picture asked for nor the
// release's own queues behind them.
// A module for anywidget: its model alone does the work (initialize); it is never displayed.

const MODEL_PREFIX = "IPY_MODEL_";
const ASK_MS = 40;                 // while a handle is held over values not kept, ask this often

function asDataView(buffer) {
  // a custom message's buffer, as the DataView an Image widget's model holds
  if (buffer instanceof DataView) return buffer;
  if (ArrayBuffer.isView(buffer)) return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new DataView(buffer);
}

export default {
  async initialize({ model }) {
    const modelOf = (ref) => model.widget_manager.get_model(String(ref).slice(MODEL_PREFIX.length));
    const [image, readout, ...controls] = await Promise.all(
      [model.get("image"), model.get("readout"), ...model.get("controls")].map(modelOf));
    const traits = model.get("control_traits");
    const kept = new Map();          // key -> {png, readout}, the least recently shown first
    let keptBytes = 0;
    let received = 0;                // pictures received since this page started

    const keyNow = () => controls.map((control, i) => control.get(traits[i])).join(" ");

    function show() {
      const key = keyNow();
      const picture = kept.get(key);
      if (!picture) return;          // not drawn yet: the kernel's picture is on its way
      kept.delete(key);
      kept.set(key, picture);
      image.set("value", picture.png);
      readout.set("value", picture.readout);
    }

    function keep(message, buffers) {
      if (!message || !Array.isArray(message.key) || !buffers || !buffers.length) return;
      const key = message.key.join(" ");
      const old = kept.get(key);
      if (old) {
        keptBytes -= old.png.byteLength;
        kept.delete(key);
      }
      const png = asDataView(buffers[0]);
      kept.set(key, {png: png, readout: String(message.readout)});
      keptBytes += png.byteLength;
      if (dragging && key === underHand) showUnderHand(kept.get(key));   // asked for, it came
      if (received % 16 === 0) watchReadouts();   // from the first picture on (counted below)
      received += 1;                 // flow control: the kernel sends more when told
      if (received % model.get("ack_every") === 0) model.send({kept: received});
      const limit = model.get("max_bytes");
      for (const [oldKey, oldPicture] of kept) {     // oldest first
        if (keptBytes <= limit || kept.size <= 1) break;
        kept.delete(oldKey);
        keptBytes -= oldPicture.png.byteLength;
      }
    }

    // --- a drag in progress: the slider views' readouts say where the handle is --------------
    const observers = [];
    const watched = new WeakSet();   // the readout elements observed
    const sliders = new Set();       // the slider views' elements (where a drag starts)
    let dragging = false;
    let beforeDrag = null;           // what was shown when a drag first showed another picture

    let underHand = null;            // the key of the values the held handle is over
    let asking = null;               // a request for that picture, about to go

    function showUnderHand(picture) {
      if (beforeDrag === null) beforeDrag = {png: image.get("value"), readout: readout.get("value")};
      image.set("value", picture.png);
      readout.set("value", picture.readout);
    }

    function passing(i, label) {
      if (!dragging) return;
      const index = controls[i].get("_options_labels").indexOf(String(label).trim());
      if (index < 0) return;
      const values = controls.map((control, j) => (j === i ? index : control.get(traits[j])));
      underHand = values.join(" ");
      const picture = kept.get(underHand);
      if (picture) {
        showUnderHand(picture);
      } else if (asking === null) {  // the kernel draws it now: at most one request per ASK_MS
        asking = setTimeout(() => {
          asking = null;
          if (dragging && underHand !== null && !kept.has(underHand))
            model.send({want: underHand.split(" ").map(Number)});
        }, ASK_MS);
      }
    }

    function watchReadouts() {       // views made since the last look (a cell shown again)
      const looks = [];
      controls.forEach((control, i) => {
        if (traits[i] !== "index" || !control.views || !Array.isArray(control.get("_options_labels"))) return;
        for (const promise of Object.values(control.views)) {
          looks.push(Promise.resolve(promise).then((view) => {
            const element = view && view.el && view.el.querySelector(".widget-readout");
            if (!element || watched.has(element)) return;
            watched.add(element);
            sliders.add(view.el);
            const observer = new MutationObserver(() => passing(i, element.textContent));
            observer.observe(element, {childList: true, characterData: true, subtree: true});
            observers.push(observer);
          }, () => {}));
        }
      });
      return Promise.all(looks);
    }

    function settle() {              // after the release's own handlers (the models' change)
      if (beforeDrag === null) return;
      const shown = beforeDrag;
      beforeDrag = null;
      if (kept.has(keyNow())) {
        show();
      } else {                       // the kernel draws that one: show what was shown before
        image.set("value", shown.png);
        readout.set("value", shown.readout);
      }
    }

    // While a handle is held, the kernel keeps the pictures it draws ahead (and stops drawing
    // them): the picture of the release then finds the connection and the kernel free.
    let pressed = null;              // what the pointer pressed, until it is released
    const onDown = (event) => {
      pressed = event.target;
      const onSlider = () => {
        for (const element of sliders) {
          if (!element.isConnected) sliders.delete(element);
          else if (element.contains(pressed)) return true;
        }
        return false;
      };
      const start = () => {
        dragging = true;
        model.send({hold: true});
      };
      if (onSlider()) start();
      else watchReadouts().then(() => { if (pressed !== null && !dragging && onSlider()) start(); });
    };
    const onUp = () => {
      pressed = null;
      if (!dragging) return;
      dragging = false;
      underHand = null;
      setTimeout(() => { settle(); model.send({hold: false}); }, 0);
    };
    const page = typeof document === "undefined" ? null : document;
    if (page) {
      page.addEventListener("pointerdown", onDown, true);
      page.addEventListener("pointerup", onUp, true);
      page.addEventListener("pointercancel", onUp, true);
    }

    model.on("msg:custom", keep);
    model.send({started: true});     // what the kernel sent to a page before this one is gone
    watchReadouts();                 // the views shown by now (again every 16 pictures kept,
                                     // and at a press that finds none)
    for (const control of controls) control.on("change", show);
    return () => {
      for (const control of controls) control.off("change", show);
      if (page) {
        page.removeEventListener("pointerdown", onDown, true);
        page.removeEventListener("pointerup", onUp, true);
        page.removeEventListener("pointercancel", onUp, true);
      }
      for (const observer of observers) observer.disconnect();
      kept.clear();
    };
  },
};
