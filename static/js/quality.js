/* Quality over time: one uPlot chart, a line per category/feature/release with its
   95% interval as a band, and deployments drawn as dashed vertical markers. */
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];

  function markersPlugin(markers) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#6b7280";
          ctx.fillStyle = "#374151";
          ctx.setLineDash([5, 4]);
          ctx.lineWidth = 1;
          ctx.font = "11px sans-serif";
          markers.forEach(function (m) {
            var x = Math.round(u.valToPos(m.x, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(m.label, x + 3, u.bbox.top + 12);
          });
          ctx.restore();
        }]
      }
    };
  }

  function draw(el) {
    var dataEl = document.getElementById(el.dataset.qualityChart || "quality-chart-data");
    var suffix = el.dataset.ySuffix === undefined ? "%" : el.dataset.ySuffix;
    var yLabel = el.dataset.yLabel || "quality %";
    var yRange = el.dataset.yRange ? el.dataset.yRange.split(",").map(Number) : null;
    if (!dataEl || typeof uPlot === "undefined") return;
    var payload = JSON.parse(dataEl.textContent);
    if (payload.x.length === 1) {
      // A single day or week would stretch the time axis over years: pad it by a week.
      var t = payload.x[0];
      payload.x = [t - 7 * 86400, t, t + 7 * 86400];
      payload.series.forEach(function (s) {
        ["mean", "low", "high"].forEach(function (k) { s[k] = [null, s[k][0], null]; });
      });
    }
    var data = [payload.x];
    var series = [{}];
    var bands = [];
    payload.series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length];
      var base = data.length;
      data.push(s.mean, s.high, s.low);
      series.push({label: s.label, stroke: color, width: 2, spanGaps: true,
                   value: function (u, v) { return v == null ? "–" : v.toFixed(suffix ? 1 : 2) + suffix; }});
      series.push({label: s.label + " 95% high", stroke: color + "55", width: 1, spanGaps: true, show: true});
      series.push({label: s.label + " 95% low", stroke: color + "55", width: 1, spanGaps: true, show: true});
      bands.push({series: [base + 1, base + 2], fill: color + "18"});
    });
    el.innerHTML = "";
    var width = Math.max(320, el.clientWidth || 800);
    // eslint-disable-next-line no-new
    new uPlot({
      width: width, height: 300, series: series, bands: bands,
      scales: {x: {time: true}, y: yRange ? {range: yRange} : {}},
      axes: [{}, {label: yLabel, values: function (u, vals) { return vals.map(function (v) { return v + suffix; }); }}],
      legend: {live: true},
      plugins: [markersPlugin(payload.deployments || [])]
    }, data, el);
  }

  function init(root) {
    (root || document).querySelectorAll("[data-quality-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", function () { init(); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target); });
})();
