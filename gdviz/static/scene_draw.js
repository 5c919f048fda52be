// How a scene (gdviz/scene.py) is drawn on a canvas, and how a replay's variants are put into
// it: the one drawing shared by the animation player (player.js) and the explorer's page
// (browser_cache.js, which draws the picture of an η the kernel has not sent yet). A plain
// script: it sets globalThis.gdvizScene (stateless functions; the last one loaded wins).
globalThis.gdvizScene = (function () {
  function outline(ctx, s, x, y) {
    var i, j, p;
    ctx.beginPath();
    for (i = 0; i < s.polys.length; i++) {
      p = s.polys[i];
      ctx.moveTo(x + p[0], y + p[1]);
      for (j = 2; j < p.length; j += 2) ctx.lineTo(x + p[j], y + p[j + 1]);
      ctx.closePath();
    }
    if (s.fill) { ctx.fillStyle = s.fill; ctx.fill(); }
    if (s.edge && s.lw > 0) { ctx.strokeStyle = s.edge; ctx.lineWidth = s.lw; ctx.stroke(); }
  }
  // A marker is drawn once per scene and scale as a small picture, then stamped at the whole
  // pixel nearest each point (as gdviz/scene.py's Compositor does): a path of 200 markers
  // drawn as 200 paths took 30 ms, stamped 1 ms.
  var markers = new WeakMap();     // scene -> {scale, sprites: [{image, offset, size}]}
  function canvasOf(size) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(size, size);
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    return canvas;
  }
  function marker(s, scale) {
    var reach = 0, i, j;
    for (i = 0; i < s.polys.length; i++)
      for (j = 0; j < s.polys[i].length; j++) reach = Math.max(reach, Math.abs(s.polys[i][j]));
    reach = Math.ceil(reach + (s.edge && s.lw > 0 ? s.lw : 0)) + 1;
    var size = 2 * reach + 1, image = canvasOf(size * scale), c = image.getContext("2d");
    c.setTransform(scale, 0, 0, scale, 0, 0);
    c.lineJoin = "round"; c.lineCap = "round";
    outline(c, s, reach + 0.5, reach + 0.5);
    return {image: image, offset: reach + 0.5, size: size};
  }
  function shape(ctx, scene, index, x, y, scale) {
    var kept = markers.get(scene);
    if (!kept || kept.scale !== scale) { kept = {scale: scale, sprites: []}; markers.set(scene, kept); }
    var m = kept.sprites[index] || (kept.sprites[index] = marker(scene.shapes[index], scale));
    ctx.drawImage(m.image, Math.round(x - m.offset), Math.round(y - m.offset), m.size, m.size);
  }
  function pen(ctx, xy, upto) {   // a polyline through points 0..upto, broken where one is null
    var j, down = false, last = null;
    ctx.beginPath();
    for (j = 0; j <= upto; j++) {
      if (xy[2 * j] === null || xy[2 * j + 1] === null) { down = false; continue; }
      if (down) ctx.lineTo(xy[2 * j], xy[2 * j + 1]); else ctx.moveTo(xy[2 * j], xy[2 * j + 1]);
      down = true; last = j;
    }
    return last;
  }
  // Draw what moves at `step` on a transparent canvas laid over the background, `scale` canvas
  // pixels to a scene pixel; `imageOf(png)` gives a sprite's decoded image (drawn if complete).
  // Returns the notes of the runs that diverged by then ("✕ SGD diverged at step 7").
  function draw(ctx, scene, step, scale, imageOf) {
    var loose = [], notes = [], i, j, k, m, path, upto, last, c;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.clearRect(0, 0, scene.width, scene.height);
    ctx.lineJoin = "round"; ctx.lineCap = "round";
    for (k = 0; k < scene.panels.length; k++) {
      var ends = [];
      c = scene.panels[k].clip;
      ctx.save();
      ctx.beginPath(); ctx.rect(c[0], c[1], c[2] - c[0], c[3] - c[1]); ctx.clip();
      for (i = 0; i < scene.paths.length; i++) {
        path = scene.paths[i];
        if (path.panel !== k) continue;
        upto = Math.min(step, path.xy.length / 2 - 1);
        var layers = path.outline ? [[path.outline, path.marker_outline], [path, path.marker]]
                                  : [[path, path.marker]];
        for (m = 0; m < layers.length; m++) {
          last = pen(ctx, path.xy, upto);
          ctx.strokeStyle = layers[m][0].color; ctx.lineWidth = layers[m][0].lw; ctx.stroke();
          for (j = 0; j <= upto && layers[m][1] !== null; j++) {
            if (path.xy[2 * j] !== null && path.xy[2 * j + 1] !== null)
              shape(ctx, scene, layers[m][1], path.xy[2 * j], path.xy[2 * j + 1], scale);
          }
        }
        if (last === null) continue;
        var at = [path.xy[2 * last], path.xy[2 * last + 1]];
        if (path.diverged_at !== null && step >= path.diverged_at) {
          (path.cross_clip ? ends : loose).push([path.cross, at[0], at[1]]);
          if (k === 0) notes.push("\u2715 " + path.note);
        } else ends.push([path.head, at[0], at[1]]);
      }
      for (i = 0; i < scene.marks.length; i++) {
        m = scene.marks[i];
        if (m.panel !== k) continue;
        for (j = 0; j < m.steps.length; j++) {
          if (m.steps[j] > step || m.xy[2 * j] === null || m.xy[2 * j + 1] === null) continue;
          if (m.clip) shape(ctx, scene, m.shape, m.xy[2 * j], m.xy[2 * j + 1], scale);
          else loose.push([m.shape, m.xy[2 * j], m.xy[2 * j + 1]]);
        }
      }
      for (i = 0; i < scene.stamps.length; i++) {
        if (scene.stamps[i].panel === k)
          shape(ctx, scene, scene.stamps[i].shape, scene.stamps[i].x, scene.stamps[i].y, scale);
      }
      for (i = 0; i < ends.length; i++) shape(ctx, scene, ends[i][0], ends[i][1], ends[i][2], scale);
      ctx.restore();
    }
    for (i = 0; i < loose.length; i++) shape(ctx, scene, loose[i][0], loose[i][1], loose[i][2], scale);
    // boxes of the background drawn over the paths (a legend inside a panel): cleared, so
    // the picture under the canvas shows there
    var onTop = scene.on_top || [];
    for (i = 0; i < onTop.length; i++) {
      c = onTop[i];
      ctx.clearRect(c[0], c[1], c[2] - c[0], c[3] - c[1]);
    }
    for (i = 0; i < scene.sprites.length; i++) {
      var image = imageOf(scene.sprites[i].png);
      if (step >= scene.sprites[i].from && image.complete !== false)
        ctx.drawImage(image, scene.sprites[i].x, scene.sprites[i].y);
    }
    var co = scene.counter;
    if (co) {
      ctx.font = co.size + "px 'DejaVu Sans', Verdana, Arial, sans-serif";
      ctx.fillStyle = co.color; ctx.textAlign = "right"; ctx.textBaseline = "alphabetic";
      ctx.fillText("step " + step + " / " + scene.last_step, co.x, co.y);
    }
    return notes;
  }
  function decode(text, stride) {   // gdviz/replay.py's encode_path, read back
    var out = [], last = [0, 0], column = 0, i = 0, value, scale, bits;
    while (i < text.length) {
      if (text.charAt(i) === "!") { out.push(null); i++; }
      else {
        value = 0; scale = 1;
        do { bits = text.charCodeAt(i++) - 63; value += (bits & 31) * scale; scale *= 32; }
        while (bits >= 32);
        last[column] += value % 2 ? -(value + 1) / 2 : value / 2;
        out.push(last[column] / 10);
      }
      column = (column + 1) % stride;
    }
    return out;
  }
  function decoded(v, o) {          // [path xy per panel, marks xy], decoded once per variant
    if (!o.decoded) {
      var xy = [decode(o.xy[0], 2)], k, ys, loss;
      if (o.xy.length > 1) {        // the loss panel: y only; x = a + b·k
        ys = decode(o.xy[1], 1); loss = [];
        for (k = 0; k < ys.length; k++)
          loss.push(Math.round((v.loss_x[0] + v.loss_x[1] * k) * 10) / 10, ys[k]);
        xy.push(loss);
      }
      o.decoded = [xy, o.marks ? decode(o.marks[0], 2) : null];
    }
    return o.decoded;
  }
  // Put variant chosen[c] of each optimizer c into the scene's paths, marks and sprites
  // (gdviz/replay.py's _chosen_scene, in the page).
  function compose(scene, chosen) {
    var c, o, v, p, d, marks = [], sprites = [], variants = scene.variants;
    for (c = 0; c < variants.length; c++) {
      v = variants[c]; o = v.options[chosen[c]]; d = decoded(v, o);
      for (p = 0; p < v.paths.length; p++) {
        var path = scene.paths[v.paths[p]];
        path.xy = d[0][p]; path.diverged_at = o.diverged_at; path.note = o.note;
      }
      if (o.marks) marks.push({panel: v.mark.panel, shape: v.mark.shape, clip: v.mark.clip,
                               xy: d[1], steps: o.marks[1]});
      if (o.sprite) sprites.push({png: scene.images[o.sprite[0]], x: o.sprite[1], y: o.sprite[2],
                                  from: o.diverged_at});
    }
    scene.marks = marks; scene.sprites = sprites;
  }
  return {draw: draw, decode: decode, compose: compose};
})();
