// The explorer's companion output (gdviz/explorer/offline.py): a replay of the explorer,
// hidden at first, in an inert <template> that is instantiated when it is shown. On a static page (nbconvert, nbviewer, a course page) it is shown at once,
// in place of the output before it: the still picture, or the widget view embedded from the
// saved widget state (which has no kernel). In a live front end it stays hidden
// while the live widget is beside it, and is shown if none rendered within a few seconds.
// This file is one function expression: the page's script element holds it followed by
// ("…-offline-N"), the companion's id.
(function (ID) {
  function setup(root) {
    if (root.gdvizCompanion) return;
    var classes = document.body ? document.body.className : "";
    var live = !!(root.closest(".jp-NotebookPanel, .jp-LinkedOutputView") ||
                  /\b(notebook_app|vscode-light|vscode-dark|vscode-high-contrast)\b/.test(classes));
    var output = root.closest(".jp-OutputArea-child, .output_area");
    var before = output && output.previousElementSibling;
    function liveWidget() {   // the explorer's widget, rendered by a widget manager with a kernel
      return !!(before && before.querySelector(".gdviz-explorer") &&
                !before.querySelector('script[type="application/vnd.jupyter.widget-view+json"]'));
    }
    function instantiate() {  // the replay out of its inert <template>, its scripts made anew
      var template = root.querySelector("template.gdviz-replay-template");
      if (!template) return;
      var content = document.importNode(template.content, true);
      var scripts = content.querySelectorAll("script:not([type])");
      for (var i = 0; i < scripts.length; i++) {
        var fresh = document.createElement("script");
        fresh.text = scripts[i].text;
        scripts[i].parentNode.replaceChild(fresh, scripts[i]);
      }
      template.parentNode.replaceChild(content, template);
    }
    function show(yes) {
      if (yes) instantiate();
      root.style.display = yes ? "" : "none";
      root.setAttribute("data-shown", yes ? "1" : "0");
      var still = before && before.querySelector(".gdviz-explorer-offline");
      if (still) still.style.display = yes ? "none" : "";
      // a widget view embedded from saved state (nbconvert, nbviewer) has no kernel: blank
      // offline, sliders that move a frozen picture online; the replay stands in for it
      if (!live && before && before.querySelector('script[type="application/vnd.jupyter.widget-view+json"]'))
        before.style.display = yes ? "none" : "";
    }
    root.gdvizCompanion = {live: live};
    if (!live) { show(true); return; }
    if (!output) return;      // a front end whose outputs we cannot look beside (VS Code): hidden
    var waited = 0;
    (function watch() {       // a widget may render late, or go (the kernel restarted)
      if (!document.body.contains(root)) return;
      if (liveWidget()) show(false);
      else if (waited >= 3000) show(true);
      waited += 250;
      if (waited <= 20000) setTimeout(watch, 250);
    })();
  }
  var tries = 0;
  (function find() {          // inserted by a front end but maybe not yet in the page
    var root = document.getElementById(ID);
    if (root) setup(root);
    else if (++tries < 50) setTimeout(find, 100);
  })();
})
