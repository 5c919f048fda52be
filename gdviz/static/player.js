// The animation player of gdviz/animation.py: draws frame i of a scene (the JSON in the
// player's script.gdviz-data) on a canvas over the still background image. A replay's scene
// (gdviz/replay.py) also has variants: per optimizer, the moving parts for each η of a grid;
// its η range inputs (input.gdviz-variant) pick one, and the frame is drawn again.
// The drawing itself is scene_draw.js's (gdvizScene), which the same script element holds first.
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
    function draw() {
      var step = scene.steps[frame];
      var notes = gdvizScene.draw(ctx, scene, step, K, imageOf);
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
    function compose() {
      gdvizScene.compose(scene, chosen);
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
