// The explorer's pictures kept in the page (gdviz/explorer/browser.py). The kernel sends every
// picture it draws, with the value of every control it was drawn for, as the controls' models
// in the page hold them. When those models reach values whose picture is kept (a slider
// released, a key pressed, Play), the picture and its readout are shown at once, by setting
// the picture's and the readout's models in the page; the kernel's own picture for those
// values comes a moment later with the same bytes, which changes nothing. A module for
// anywidget: its model alone does the work (initialize); it is never displayed.

const MODEL_PREFIX = "IPY_MODEL_";

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
      received += 1;                 // flow control: the kernel sends more when told
      if (received % model.get("ack_every") === 0) model.send({kept: received});
      const limit = model.get("max_bytes");
      for (const [oldKey, oldPicture] of kept) {     // oldest first
        if (keptBytes <= limit || kept.size <= 1) break;
        kept.delete(oldKey);
        keptBytes -= oldPicture.png.byteLength;
      }
    }

    model.on("msg:custom", keep);
    model.send({started: true});     // what the kernel sent to a page before this one is gone
    for (const control of controls) control.on("change", show);
    return () => {
      for (const control of controls) control.off("change", show);
      kept.clear();
    };
  },
};
