// Vigil charts: uPlot wrappers that read their data from JSON embedded in the page.
//
//   <div class="chart" data-chart="cost-by-day"></div>
//   {{ chart|json_script:"cost-by-day" }}
//
// The JSON is {kind, format, x, series: [{label, values, color?}], categories?, height?}:
//   kind "timeseries": x is epoch seconds (UTC), one line per series.
//   kind "bars":       x is epoch seconds, one bar series per x (e.g. cost per day).
//   kind "share":      categories on the x axis, one or two bar series side by side
//                      (e.g. cost share next to request share).
//   kind "spark":      a small line without axes, for headline cards.
// format is "usd", "ms", "pct" (values are fractions), "count" or "score".
// Charts mount on page load and on every htmx swap, are destroyed when htmx removes
// them, and follow their container's width.
(function () {
  "use strict";

  const PALETTE = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#1098ad",
    "#f08c00", "#5c940d", "#495057", "#d6336c"];
  const AXIS = { stroke: "#667085", grid: { stroke: "#eef0f4", width: 1 }, ticks: { stroke: "#e3e6ec", width: 1 },
    font: "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" };

  function compact(v, digits) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(digits) + "B";
    if (a >= 1e6) return (v / 1e6).toFixed(digits) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(digits) + "k";
    return null;
  }

  const FORMATS = {
    usd(v) {
      if (v == null) return "–";
      const c = compact(v, 1);
      if (c) return "$" + c;
      const a = Math.abs(v);
      if (a >= 100) return "$" + v.toFixed(0);
      if (a >= 0.1) return "$" + v.toFixed(2);
      if (a === 0) return "$0";
      if (a >= 0.01) return "$" + v.toFixed(3);
      return "$" + v.toPrecision(2);
    },
    ms(v) {
      if (v == null) return "–";
      if (Math.abs(v) >= 1000) return (v / 1000).toFixed(Math.abs(v) >= 10000 ? 0 : 1) + " s";
      return Math.round(v) + " ms";
    },
    pct(v) {
      if (v == null) return "–";
      const p = v * 100;
      return (Math.abs(p) >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + "%";
    },
    count(v) {
      if (v == null) return "–";
      return compact(v, 1) || String(Math.round(v * 100) / 100);
    },
    score(v) {
      if (v == null) return "–";
      return v.toFixed(2);
    },
  };
  // Legend values read at the cursor: a little more precise than the axis ticks.
  const PRECISE = {
    usd(v) { return v == null ? "–" : "$" + (Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4)); },
    ms(v) { return v == null ? "–" : Math.round(v).toLocaleString("en-US") + " ms"; },
    pct(v) { return v == null ? "–" : (v * 100).toFixed(2) + "%"; },
    count(v) { return v == null ? "–" : Math.round(v).toLocaleString("en-US"); },
    score(v) { return v == null ? "–" : v.toFixed(3); },
  };

  function formatter(name, precise) {
    const table = precise ? PRECISE : FORMATS;
    return table[name] || table.count;
  }

  // The time axis and cursor read UTC, like every number the server prints.
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }

  function baseSeries(spec, i, paths) {
    const color = spec.color || PALETTE[i % PALETTE.length];
    return {
      label: spec.label,
      stroke: color,
      width: 2,
      fill: paths ? color + "cc" : undefined,
      paths: paths,
      points: { show: false },
      spanGaps: false,
    };
  }

  function optionsFor(data, width) {
    const kind = data.kind || "timeseries";
    const fmt = formatter(data.format, false);
    const precise = formatter(data.format, true);
    const height = data.height || (kind === "spark" ? 46 : 240);
    const yAxis = Object.assign({}, AXIS, {
      size: 64,
      values: (u, splits) => splits.map(fmt),
    });
    // Counts tick at whole numbers.
    if (data.format === "count") yAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7];
    const opts = { width: width, height: height, series: [{}], axes: [], legend: { show: true },
      cursor: { drag: { x: false, y: false } }, scales: { x: { time: true } }, tzDate: utc };

    if (kind === "spark") {
      opts.legend.show = false;
      opts.cursor = { show: false };
      opts.axes = [{ show: false }, { show: false }];
      opts.padding = [4, 2, 4, 2];
      data.series.forEach((s, i) => {
        const ser = baseSeries(s, i, null);
        ser.width = 1.5;
        ser.spanGaps = true;
        ser.fill = (s.color || PALETTE[i]) + "22";
        opts.series.push(ser);
      });
      return opts;
    }

    if (kind === "share") {
      const cats = data.categories || [];
      const n = data.series.length;
      opts.scales = { x: { time: false, range: [-0.6, cats.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(max, 0.01) * 1.08] } };
      const crowded = cats.length > 4;
      opts.axes = [
        Object.assign({}, AXIS, {
          grid: { show: false },
          rotate: crowded ? -28 : 0,
          size: crowded ? 92 : 40,
          splits: () => cats.map((_, i) => i),
          values: (u, splits) => splits.map((i) => {
            const label = cats[i] == null ? "" : String(cats[i]);
            return label.length > 16 ? label.slice(0, 15) + "…" : label;
          }),
        }),
        yAxis,
      ];
      opts.series[0] = { label: data.xLabel || "", value: (u, i) => (i == null ? "" : cats[i] || "") };
      const barWidth = Math.min(0.8 / n, 0.4);
      data.series.forEach((s, i) => {
        const align = n === 1 ? 0 : (i === 0 ? -1 : 1);
        const ser = baseSeries(s, i, uPlot.paths.bars({ size: [barWidth, 48], align: align, gap: 2 }));
        ser.value = (u, v) => precise(v);
        opts.series.push(ser);
      });
      return opts;
    }

    opts.axes = [Object.assign({}, AXIS, { space: 70, values: timeTicks }), yAxis];
    opts.scales.y = { range: (u, min, max) => {
      const lo = Math.min(0, min == null ? 0 : min);
      const hi = max == null || max <= lo ? lo + 1 : max * 1.1;
      return [lo, data.format === "pct" ? Math.min(hi, Math.max(1.0, max) * 1.05) : hi];
    } };
    if (data.tight) opts.scales.y = { range: (u, min, max) => {
      const lo = min == null ? 0 : Math.max(0, min - Math.max((max - min) * 0.2, 0.01));
      return [lo, max == null ? 1 : Math.min(1, max + 0.005) || 1];
    } };
    if (data.format === "score") opts.scales.y = { range: (u, min, max) => [Math.min(0, min || 0), Math.max(1, max || 1)] };
    const bars = kind === "bars" ? uPlot.paths.bars({ size: [0.7, 60], align: 0 }) : null;
    if (bars) {
      // Half a bucket of room at both ends, so the first and last bars are whole.
      const half = (data.step || 3600) / 2;
      opts.scales.x = { time: true, range: (u, min, max) => [min - half, max + half] };
    }
    data.series.forEach((s, i) => {
      const ser = baseSeries(s, i, bars);
      if (data.spanGaps) ser.spanGaps = true;
      if (data.points) ser.points = { show: true, size: 4 };
      ser.value = (u, v) => precise(v);
      opts.series.push(ser);
    });
    opts.series[0].value = (u, ts) => (ts == null ? "" : fmtTime(ts, data.step));
    return opts;
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // Tick labels in UTC: "Nov 21" for day ticks, "14:00" for hours (with the date at midnight).
  function timeTicks(u, splits, axisIdx, foundSpace, foundIncr) {
    return splits.map((ts) => {
      const d = new Date(ts * 1000);
      const day = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
      if (foundIncr >= 86400) return day;
      const hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
      return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? day : hm;
    });
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function fmtTime(ts, step) {
    const d = new Date(ts * 1000);
    const day = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    return step && step >= 86400 ? day : day + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function dataArrays(data) {
    const x = data.kind === "share" ? (data.categories || []).map((_, i) => i) : data.x;
    return [x].concat(data.series.map((s) => s.values));
  }

  function mount(el) {
    if (el._vigilChart) return;
    const id = el.getAttribute("data-chart");
    const script = document.getElementById(id);
    if (!script) return;
    let data;
    try {
      data = JSON.parse(script.textContent);
    } catch (err) {
      el.textContent = "Chart data could not be read.";
      return;
    }
    const hasPoints = data.series && data.series.length && (data.kind === "share" ? (data.categories || []).length : (data.x || []).length);
    if (!hasPoints) {
      el.classList.add("chart-empty");
      el.textContent = data.empty || "No data in this range.";
      return;
    }
    el.textContent = "";  // a chart restored from htmx's history cache is drawn anew
    const width = Math.max(el.clientWidth, 120);
    const chart = new uPlot(optionsFor(data, width), dataArrays(data), el);
    const observer = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 120);
      if (Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height: chart.height });
    });
    observer.observe(el);
    el._vigilChart = { chart: chart, observer: observer };
    el.setAttribute("data-chart-ready", "1");
  }

  function destroy(el) {
    const state = el._vigilChart;
    if (!state) return;
    state.observer.disconnect();
    state.chart.destroy();
    el._vigilChart = null;
  }

  function mountAll(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("[data-chart]")) mount(root);
    root.querySelectorAll("[data-chart]").forEach(mount);
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    mountAll(document);
  }

  window.Vigil = window.Vigil || {};
  window.Vigil.charts = { mountAll: mountAll, formats: FORMATS };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:load", (e) => mountAll(e.detail.elt));
  document.addEventListener("htmx:beforeCleanupElement", (e) => {
    const el = e.detail.elt;
    if (el && el._vigilChart) destroy(el);
  });
})();
