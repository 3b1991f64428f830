/* Forecast charts (Chart.js, vendored). Data comes from json_script blocks; every chart's
   numbers are also in a table beside it. Charts are destroyed before htmx swaps their region. */
(function () {
  "use strict";
  var charts = {};
  var RED = "#dc2626", BLUE = "#2563eb", GREY = "#9ca3af", GREEN = "#16a34a", AMBER = "#d97706";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function destroy(key) {
    if (charts[key]) { charts[key].destroy(); delete charts[key]; }
  }

  var ZH = /^zh/i.test(document.documentElement.lang || "");

  function grouped(value, places) {
    return value.toLocaleString(ZH ? "zh-CN" : "en", { maximumFractionDigits: places, minimumFractionDigits: 0 });
  }

  /* Amounts as the tables say them: 万 (亿 from a hundred million) on zh pages, K / M / B in English.
     `places` decimals of the unit: 1 on an axis, 2 in a tooltip. */
  function money(value, places) {
    var size = Math.abs(value), p = places === undefined ? 1 : places;
    if (ZH) {
      if (size >= 1e8) return grouped(value / 1e8, p + 1) + "亿";
      if (size >= 1e4) return grouped(value / 1e4, p) + "万";
      return grouped(value, 0);
    }
    if (size >= 1e9) return grouped(value / 1e9, p + 1) + "B";
    if (size >= 1e6) return grouped(value / 1e6, p) + "M";
    if (size >= 1e3) return grouped(value / 1e3, p) + "K";
    return grouped(value, 0);
  }

  function moneyAxis() { return { beginAtZero: true, ticks: { callback: function (v) { return money(v, 1); } } }; }

  function moneyTooltip() {
    return { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + money(ctx.parsed.y, 2); } } };
  }

  function shareTooltip() {
    return { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + Math.round(ctx.parsed.y * 100) + "%"; } } };
  }

  function draw(key, canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !window.Chart) return;
    destroy(key);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[key] = new window.Chart(canvas, config);
  }

  function board() {
    var d = data("forecast-board-data");
    if (!d) return;
    var root = document.getElementById("forecast-board");
    draw("board", "forecast-board-chart", {
      data: {
        labels: d.labels.map(function (l) { return l.slice(5); }),
        datasets: [
          { type: "bar", label: d.names.weighted, data: d.weighted, backgroundColor: BLUE, stack: "f", order: 3 },
          { type: "bar", label: d.names.residual, data: d.residual, backgroundColor: "#93c5fd", stack: "f", order: 4 },
          { type: "line", label: d.names.committed, stack: "c", data: d.committed, borderColor: GREY, backgroundColor: GREY, stepped: "middle", pointRadius: 0, order: 2 },
          { type: "line", label: d.names.warning, stack: "w", data: d.warning, borderColor: RED, backgroundColor: RED, borderDash: [6, 4], stepped: "middle", pointRadius: 0, order: 1 }
        ]
      },
      options: {
        scales: { x: { stacked: true }, y: Object.assign(moneyAxis(), { stacked: true }) },
        plugins: { legend: { position: "bottom" }, tooltip: moneyTooltip() },
        onClick: function (event, elements) {
          if (!elements.length || !window.htmx || !root) return;
          var week = d.labels[elements[0].index];
          var query = root.dataset.query ? "&" + root.dataset.query : "";
          window.htmx.ajax("GET", root.dataset.drill + "?week=" + week + query, { target: "#forecast-drill" });
        }
      }
    });
  }

  function accuracy() {
    var d = data("forecast-accuracy-data");
    if (!d) return;
    var colours = { credit: BLUE, stage: AMBER, stage_fitted: "#7c3aed", commit: GREEN, runrate: GREY };
    var sets = [{ type: "bar", label: d.names.actual, data: d.actual, backgroundColor: "#e5e7eb", order: 5 }];
    Object.keys(d.methods).forEach(function (m, i) {
      sets.push({ type: "line", label: d.names[m], data: d.methods[m], borderColor: colours[m], backgroundColor: colours[m], pointRadius: 2, order: i });
    });
    draw("accuracy", "forecast-accuracy-chart", {
      data: { labels: d.labels.map(function (l) { return l.slice(5); }), datasets: sets },
      options: { scales: { y: moneyAxis() }, plugins: { legend: { position: "bottom" }, tooltip: moneyTooltip() } }
    });
    var c = d.calibration;
    draw("calibration", "forecast-calibration-chart", {
      data: {
        labels: c.labels,
        datasets: [
          { type: "bar", label: d.names.share, data: c.share, backgroundColor: BLUE },
          { type: "line", label: d.names.predicted, data: c.predicted, borderColor: RED, backgroundColor: RED },
          { type: "line", label: d.names["default"], data: c["default"], borderColor: GREY, backgroundColor: GREY, borderDash: [4, 4] }
        ]
      },
      options: { scales: { y: { min: 0, max: 1, ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } } }, plugins: { legend: { position: "bottom" }, tooltip: shareTooltip() } }
    });
  }

  function init() { board(); accuracy(); }

  document.addEventListener("DOMContentLoaded", init);
  document.body && document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "forecast-board") destroy("board");
  });
  document.addEventListener("htmx:afterSettle", function () {
    var canvas = document.getElementById("forecast-board-chart");
    if (canvas && !(charts.board && charts.board.canvas === canvas)) board();
  });
})();
