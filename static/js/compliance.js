// Compliance pages: the violations-per-day chart (uPlot, vendored).
(function () {
  "use strict";
  var COLORS = { critical: "#c92a2a", high: "#e8590c", medium: "#b35c00", low: "#3b5bdb" };
  var plots = [];

  function draw(root) {
    var holders = (root || document).querySelectorAll("#violation-chart[data-series]");
    holders.forEach(function (el) {
      if (el.dataset.drawn || typeof uPlot === "undefined") return;
      var source = document.getElementById(el.dataset.series);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var series = [{}];
      var columns = [data.x];
      data.series.forEach(function (s) {
        series.push({ label: s.label, stroke: COLORS[s.label] || "#667085", width: 2,
                      points: { show: data.x.length < 60 } });
        columns.push(s.values);
      });
      var width = Math.max(320, el.clientWidth || 800);
      var plot = new uPlot({
        width: width, height: 220, series: series,
        scales: { x: { time: true } },
        axes: [{}, { label: "records / day" }],
      }, columns, el);
      el.dataset.drawn = "1";
      plots.push({ el: el, plot: plot });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { draw(evt.target); });
  window.addEventListener("resize", function () {
    plots.forEach(function (p) {
      if (document.body.contains(p.el)) p.plot.setSize({ width: Math.max(320, p.el.clientWidth), height: 220 });
    });
  });
})();
