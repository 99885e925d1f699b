// Alerts charts: a metric over time with the rule's warning/critical levels as dashed lines.
//   <div class="alert-chart" data-alert-chart="id"></div> {{ chart|json_script:"id" }}
// JSON: {x: [epoch s], series: [{label, values}], warning, critical, marks: [epoch s]}.
// Mounts on load and after every htmx swap (the rule preview re-renders as you type).
(function () {
  "use strict";
  const COLORS = ["#3b5bdb", "#2b8a3e", "#7048e8", "#1098ad", "#495057"];

  function levelsPlugin(data) {
    return {
      hooks: {
        draw: [function (u) {
          const ctx = u.ctx;
          ctx.save();
          ctx.setLineDash([6, 4]);
          [["warning", "#f08c00"], ["critical", "#e03131"]].forEach(function (pair) {
            const v = data[pair[0]];
            if (v === null || v === undefined) return;
            const y = u.valToPos(v, "y", true);
            ctx.strokeStyle = pair[1];
            ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
          });
          (data.marks || []).forEach(function (t) {
            const x = u.valToPos(t, "x", true);
            ctx.strokeStyle = "#868e96";
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          });
          ctx.restore();
        }],
      },
    };
  }

  function mount(el) {
    if (el._uplot || typeof uPlot === "undefined") return;
    const source = document.getElementById(el.dataset.alertChart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const levels = [data.warning, data.critical].filter(function (v) { return v !== null && v !== undefined; });
    const all = [].concat.apply(levels, data.series.map(function (s) { return s.values.filter(function (v) { return v !== null; }); }));
    const max = all.length ? Math.max.apply(null, all) : 1;
    const min = all.length ? Math.min.apply(null, all) : 0;
    const opts = {
      width: Math.max(300, el.clientWidth || 600),
      height: 240,
      scales: { x: { time: true }, y: { range: [Math.min(0, min), max * 1.1 || 1] } },
      series: [{}].concat(data.series.map(function (s, i) {
        return { label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false };
      })),
      plugins: [levelsPlugin(data)],
    };
    el._uplot = new uPlot(opts, [data.x].concat(data.series.map(function (s) { return s.values; })), el);
  }

  function mountAll(root) {
    (root || document).querySelectorAll("[data-alert-chart]").forEach(mount);
  }
  document.addEventListener("DOMContentLoaded", function () { mountAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { mountAll(e.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-alert-chart]").forEach(function (el) {
      if (el._uplot) el._uplot.setSize({ width: Math.max(300, el.clientWidth), height: 240 });
    });
  });
})();
