// The animation player of gdviz/animation.py: draws frame i of a scene (the JSON in the
// player's script.gdviz-data) on a canvas over the still background image. A replay's scene
// (gdviz/replay.py) also has variants: per optimizer, the moving parts for each η of a grid;
// its η range inputs (input.gdviz-variant) pick one, and the frame is drawn again.
// This file is one function expression: the page's script element holds it followed by
// ("gdviz-player-…"), the player's id, so each script sets up its own player.
(function (ID) {
  function setup(root) {
    if (!root || root.gdvizPlayer) return;
    var scene = JSON.parse(root.querySelector("script.gdviz-data").textContent);
    var canvas = root.querySelector("canvas.gdviz-canvas"), ctx = canvas.getContext("2d");
    var q = root.querySelector.bind(root);
    var slider = q("input.gdviz-slider"), playButton = q("button.gdviz-play");
    var frameText = q(".gdviz-frame"), stepText = q(".gdviz-step"), status = q(".gdviz-status");
    var speed = q("select.gdviz-speed"), loop = q("input.gdviz-loop");
    var n = scene.steps.length, frame = n - 1, timer = null, K = scene.scale;
    function shape(index, x, y) {
      var s = scene.shapes[index], i, j, p;
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
    function pen(xy, upto) {   // a polyline through points 0..upto, broken where one is null
      var j, down = false, last = null;
      ctx.beginPath();
      for (j = 0; j <= upto; j++) {
        if (xy[2 * j] === null || xy[2 * j + 1] === null) { down = false; continue; }
        if (down) ctx.lineTo(xy[2 * j], xy[2 * j + 1]); else ctx.moveTo(xy[2 * j], xy[2 * j + 1]);
        down = true; last = j;
      }
      return last;
    }
    function draw() {
      var step = scene.steps[frame], loose = [], notes = [], i, j, k, m, path, upto, last, c;
      ctx.setTransform(K, 0, 0, K, 0, 0);
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
            last = pen(path.xy, upto);
            ctx.strokeStyle = layers[m][0].color; ctx.lineWidth = layers[m][0].lw; ctx.stroke();
            for (j = 0; j <= upto && layers[m][1] !== null; j++) {
              if (path.xy[2 * j] !== null && path.xy[2 * j + 1] !== null)
                shape(layers[m][1], path.xy[2 * j], path.xy[2 * j + 1]);
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
            if (m.clip) shape(m.shape, m.xy[2 * j], m.xy[2 * j + 1]);
            else loose.push([m.shape, m.xy[2 * j], m.xy[2 * j + 1]]);
          }
        }
        for (i = 0; i < scene.stamps.length; i++) {
          if (scene.stamps[i].panel === k) shape(scene.stamps[i].shape, scene.stamps[i].x, scene.stamps[i].y);
        }
        for (i = 0; i < ends.length; i++) shape(ends[i][0], ends[i][1], ends[i][2]);
        ctx.restore();
      }
      for (i = 0; i < loose.length; i++) shape(loose[i][0], loose[i][1], loose[i][2]);
      // boxes of the background drawn over the paths (a legend inside a panel): cleared, so
      // the picture under the canvas shows there
      var onTop = scene.on_top || [];
      for (i = 0; i < onTop.length; i++) {
        c = onTop[i];
        ctx.clearRect(c[0], c[1], c[2] - c[0], c[3] - c[1]);
      }
      for (i = 0; i < scene.sprites.length; i++) {
        var image = imageOf(scene.sprites[i].png);
        if (step >= scene.sprites[i].from && image.complete)
          ctx.drawImage(image, scene.sprites[i].x, scene.sprites[i].y);
      }
      var co = scene.counter;
      if (co) {
        ctx.font = co.size + "px 'DejaVu Sans', Verdana, Arial, sans-serif";
        ctx.fillStyle = co.color; ctx.textAlign = "right"; ctx.textBaseline = "alphabetic";
        ctx.fillText("step " + step + " / " + scene.last_step, co.x, co.y);
      }
      slider.value = frame;
      frameText.textContent = frame;
      stepText.textContent = step;
      root.setAttribute("data-frame", frame);
      status.textContent = notes.join("; ");
    }
    var images = {};
    function imageOf(png) {   // each sprite image decoded once; the frame redrawn when it is
      if (!images[png]) {
        images[png] = new Image();
        images[png].onload = draw;
        images[png].src = "data:image/png;base64," + png;
      }
      return images[png];
    }
    for (var im = 0; im < scene.sprites.length; im++) imageOf(scene.sprites[im].png);
    // a replay: put the chosen variant of every optimizer into the scene's paths, marks, sprites
    var variants = scene.variants || [], chosen = [], inputs = root.querySelectorAll("input.gdviz-variant");
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
    function compose() {
      var c, o, v, p, d, marks = [], sprites = [];
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
      root.setAttribute("data-variants", chosen.join(","));
    }
    function choose(c, i) {
      var v = variants[c];
      chosen[c] = Math.max(0, Math.min(v.options.length - 1, Math.round(i)));
      var row = inputs[c].closest(".gdviz-variant-row");
      inputs[c].value = chosen[c];
      row.querySelector(".gdviz-variant-value").textContent = v.texts[chosen[c]];
      row.querySelector(".gdviz-variant-readout").textContent = v.readouts[chosen[c]];
      compose();
      draw();
    }
    for (var vc = 0; vc < variants.length; vc++) {
      chosen.push(variants[vc].start);
      inputs[vc].addEventListener("input", (function (c) {
        return function () { choose(c, parseInt(inputs[c].value, 10)); };
      })(vc));
    }
    if (variants.length) compose();
    function stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      playButton.textContent = "\u25B6 Play"; playButton.setAttribute("aria-label", "play");
    }
    function tick() {
      if (!document.body.contains(root)) { stop(); return; }   // the output was cleared
      if (frame >= n - 1) {
        if (!loop.checked) { stop(); return; }
        frame = 0;
      } else frame += 1;
      draw();
    }
    function play() {
      stop();
      if (frame >= n - 1) { frame = 0; draw(); }
      timer = setInterval(tick, 1000 / (scene.fps * parseFloat(speed.value)));
      playButton.textContent = "\u275A\u275A Pause"; playButton.setAttribute("aria-label", "pause");
    }
    function seek(i) { frame = Math.max(0, Math.min(n - 1, Math.round(i))); draw(); }
    function on(cls, fn) { q("button." + cls).addEventListener("click", fn); }
    on("gdviz-play", function () { if (timer === null) play(); else stop(); });
    on("gdviz-first", function () { stop(); seek(0); });
    on("gdviz-prev", function () { stop(); seek(frame - 1); });
    on("gdviz-next", function () { stop(); seek(frame + 1); });
    on("gdviz-last", function () { stop(); seek(n - 1); });
    slider.addEventListener("input", function () { seek(parseInt(slider.value, 10)); });
    speed.addEventListener("change", function () { if (timer !== null) play(); });
    root.gdvizPlayer = {play: play, pause: stop, seek: seek, n: n, choose: choose,
                        frame: function () { return frame; }};
    root.className += " gdviz-ready";
    draw();
  }
  function setupAll() {
    var roots = document.querySelectorAll('.gdviz-player[data-gdviz-id="' + ID + '"]');
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
    return roots.length;
  }
  var script = document.currentScript;
  if (script && script.parentNode && script.parentNode.getAttribute("data-gdviz-id") === ID) {
    setup(script.parentNode);
  } else {  // inserted by jQuery (classic Notebook) or not yet in the page: look again soon
    var tries = 0;
    (function retry() { if (!setupAll() && ++tries < 50) setTimeout(retry, 100); })();
  }
})
