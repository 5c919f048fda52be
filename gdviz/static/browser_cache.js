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
// Before its first picture drawn ahead, the kernel sends a sketch (gdviz/explorer/page_drawing.py):
// the moving parts of every η's picture as data, and the background they go over (first without
// the marks of the runs that diverged, which come in a whole one a moment later). While the
// other controls stay where the sketch was made, the picture of an η not kept is drawn here from
// it, with the animation player's drawing (gdviz/static/scene_draw.js, gdvizScene, which comes
// first in this module), on a canvas shown in place of the picture's <img> until a picture of
// the kernel's is shown (the readout's model is set as for a kept picture).
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
      if (!picture) {                // not drawn yet: the kernel's picture is on its way
        if (!dragging) drawFor(key); // meanwhile, the page's own, if it can
        return;
      }
      kept.delete(key);
      kept.set(key, picture);
      put(picture, key);
    }

    // The picture shown: `exact` is the key whose kernel's picture it is (a kept one, or one
    // the kernel set), else null; `sketched` the key whose picture drawn here it is.
    let exact = null;
    let putting = false;
    function put(picture, key) {
      putting = true;
      try {
        image.set("value", picture.png);
      } finally {
        putting = false;
      }
      readout.set("value", picture.readout);
      unpaint();
      exact = key;
    }
    const onImage = () => {          // the kernel's picture: it is shown
      if (putting) return;
      unpaint();
      exact = keyNow();
    };

    // --- pictures drawn here, from the kernel's sketch -----------------------------------
    // drawn on a canvas shown in place of each picture's <img> (the same size, as the <img>
    // is laid out), until a picture of the kernel's is shown: no PNG to encode and decode
    let sketch = null;               // {data, background, images: png -> ImageBitmap, layer}
    let sketched = null;             // the key whose picture drawn here is shown
    const pictures = new Set();      // the picture's views' <img> elements

    function watchPictures() {
      for (const promise of Object.values(image.views || {})) {
        Promise.resolve(promise).then((view) => {
          if (view && view.el && view.el.tagName === "IMG") pictures.add(view.el);
        }, () => {});
      }
    }

    async function bitmapOf(bytes) {
      return createImageBitmap(new Blob([bytes], {type: "image/png"}));
    }

    async function receiveSketch(data, buffer) {
      if (typeof document === "undefined") return;
      const base64 = (png) => Uint8Array.from(atob(png), (ch) => ch.charCodeAt(0));
      const [background, ...sprites] = await Promise.all(
        [bitmapOf(buffer), ...data.scene.images.map((png) => bitmapOf(base64(png)))]);
      const images = new Map(data.scene.images.map((png, i) => [png, sprites[i]]));
      const layer = document.createElement("canvas");
      layer.width = data.scene.width;
      layer.height = data.scene.height;
      sketch = {data: data, background: background, images: images, layer: layer};
      watchPictures();
      announce("gdviz-sketch", {bytes: buffer.byteLength});
    }

    // What the page draws itself, said as events on the document (the browser tests and
    // benchmarks listen; nothing else does)
    function announce(name, detail) {
      if (typeof document !== "undefined") document.dispatchEvent(new CustomEvent(name, {detail: detail}));
    }

    function picksOf(key) {          // each optimizer's η index, if the sketch draws `key`
      if (sketch === null || key === null) return null;
      const values = key.split(" ").map(Number), made = sketch.data;
      if (values.length !== made.key.length) return null;
      for (let j = 0; j < values.length; j++)
        if (!made.eta_controls.includes(j) && values[j] !== made.key[j]) return null;
      const picks = made.eta_controls.map((j) => values[j]);
      const options = made.scene.variants.map((variant) => variant.options);
      // a first sketch has no marks of the runs that diverged: those come with the whole one
      const drawable = (i, c) => Number.isInteger(i) && i >= 0 && i < options[c].length
        && (options[c][i].diverged_at === null || options[c][i].diverged_step !== undefined);
      return picks.every(drawable) ? picks : null;
    }

    function paint(picks) {          // these η indices' picture in place of each <img>
      const made = sketch.data, scene = made.scene;
      gdvizScene.compose(scene, picks);
      const options = scene.variants.map((variant, c) => variant.options[picks[c]]);
      const sprite = (p) => ({png: scene.images[p[0]], x: p[1], y: p[2], from: 0});
      if (options[0].setting) scene.sprites.push(sprite(options[0].setting));
      // the loss panel's words in the rows the kernel gives them: the earliest divergence on top
      const diverged = options.map((o, c) => [o, c]).filter(([o]) => o.diverged_at !== null)
        .sort((a, b) => a[0].diverged_at - b[0].diverged_at || a[1] - b[1]);
      diverged.forEach(([o], row) => o.diverged_step[row].forEach((p) => scene.sprites.push(sprite(p))));
      gdvizScene.draw(sketch.layer.getContext("2d"), scene, scene.steps[0], 1, (png) => sketch.images.get(png));
      let shown = false;
      for (const img of pictures) {
        if (!img.isConnected) {
          pictures.delete(img);
          continue;
        }
        let canvas = img.nextElementSibling;
        if (!canvas || !canvas.classList.contains("gdviz-page-drawn")) {
          canvas = document.createElement("canvas");      // laid out as the <img> is
          canvas.className = img.className + " gdviz-page-drawn";
          canvas.style.cssText = img.style.cssText + ";height:auto";
          img.after(canvas);
        }
        if (canvas.width !== scene.width || canvas.height !== scene.height) {
          canvas.width = scene.width;
          canvas.height = scene.height;
        }
        const ctx = canvas.getContext("2d");
        ctx.drawImage(sketch.background, 0, 0);
        ctx.drawImage(sketch.layer, 0, 0);
        canvas.style.display = "";
        img.style.display = "none";
        shown = true;
      }
      if (shown) readout.set("value", picks.map((i, c) => made.lines[c][i]).concat(made.tail).join("<br>"));
      return shown;
    }

    function unpaint() {             // the <img> again, with the picture its model holds
      if (sketched === null) return;
      sketched = null;
      for (const img of pictures) {
        const canvas = img.nextElementSibling;
        if (canvas && canvas.classList.contains("gdviz-page-drawn")) canvas.style.display = "none";
        img.style.display = "";
      }
    }

    function drawFor(key) {          // show `key`'s picture drawn here; false if it cannot be
      const picks = picksOf(key);
      if (picks === null) return false;
      if (exact === key || sketched === key) return true;   // shown already
      if (dragging && beforeDrag === null)   // what a release where nothing is drawn shows again
        beforeDrag = {png: image.get("value"), readout: readout.get("value"), key: exact};
      const began = performance.now();
      if (!paint(picks)) return false;
      exact = null;
      sketched = key;
      announce("gdviz-drawn", {key: key, ms: performance.now() - began});
      return true;
    }

    function keep(message, buffers) {
      if (message && message.sketch && buffers && buffers.length) {
        receiveSketch(message.sketch, buffers[0]).catch(() => {});
        return;
      }
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
      if (dragging && key === underHand) showUnderHand(kept.get(key), key);   // asked for, it came
      if (received % 16 === 0) {     // from the first picture on (counted below)
        watchReadouts();
        watchPictures();
      }
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

    function showUnderHand(picture, key) {
      if (beforeDrag === null) beforeDrag = {png: image.get("value"), readout: readout.get("value"), key: exact};
      put(picture, key);
    }

    function passing(i, label) {
      if (!dragging) return;
      const index = controls[i].get("_options_labels").indexOf(String(label).trim());
      if (index < 0) return;
      const values = controls.map((control, j) => (j === i ? index : control.get(traits[j])));
      underHand = values.join(" ");
      const picture = kept.get(underHand);
      if (picture) {
        showUnderHand(picture, underHand);
      } else if (drawFor(underHand)) {
        // drawn here, from the sketch
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
      const key = keyNow();
      if (kept.has(key)) {
        show();
      } else if (drawFor(key)) {
        // drawn here, until the kernel's comes
      } else {                       // the kernel draws that one: show what was shown before
        put(shown, shown.key);
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
    image.on("change:value", onImage);
    return () => {
      for (const control of controls) control.off("change", show);
      image.off("change:value", onImage);
      unpaint();
      for (const img of pictures) {
        const canvas = img.nextElementSibling;
        if (canvas && canvas.classList.contains("gdviz-page-drawn")) canvas.remove();
      }
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
