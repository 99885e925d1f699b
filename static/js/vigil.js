// Vigil page behaviour shared by every page. Charts register themselves here.
//
// The Content-Security-Policy allows no inline script, event handler or style
// attribute, so what templates used to say inline they now say with data
// attributes that this file applies:
//   data-width / data-left  -> element.style (CSSOM writes are not restricted by the CSP)
//   data-confirm on a form  -> a confirmation before it submits
(function () {
  "use strict";
  window.Vigil = window.Vigil || {};

  function applyGeometry(root) {
    if (!root || !root.querySelectorAll) return;
    var nodes = root.querySelectorAll("[data-width], [data-left]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.dataset.width) el.style.width = el.dataset.width;
      if (el.dataset.left) el.style.left = el.dataset.left;
    }
  }
  window.Vigil.applyGeometry = applyGeometry;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.dataset ? form.dataset.confirm : "";
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx snapshots the page as HTML for its history cache and restores it with innerHTML.
  // Styles set through the CSSOM (uPlot's layout, the bars above) would come back as
  // style="" attributes, which the CSP refuses. Take them off for the snapshot (taken
  // synchronously after this event) and put them back right after; restored charts are
  // drawn anew and bars re-applied on htmx:load anyway.
  document.addEventListener("htmx:beforeHistorySave", function (event) {
    var root = event.detail && event.detail.historyElt ? event.detail.historyElt : document.body;
    var styled = root.querySelectorAll("[style]");
    var saved = [];
    for (var i = 0; i < styled.length; i++) {
      saved.push([styled[i], styled[i].style.cssText]);
      styled[i].removeAttribute("style");
    }
    queueMicrotask(function () {
      for (var j = 0; j < saved.length; j++) saved[j][0].style.cssText = saved[j][1];
    });
  });

  // htmx fires htmx:load for the page and for every fragment it swaps in.
  document.addEventListener("htmx:load", function (event) { applyGeometry(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applyGeometry(document); });
  } else {
    applyGeometry(document);
  }
})();
