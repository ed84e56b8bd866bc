// Price-history charts: the series come from the app's JSON endpoint (web/charts.py); drawn with Chart.js.
// Times are shown in the viewer's own time zone; the tooltip adds UTC.
(function () {
  "use strict";
  var COLORS = ["#0a58ca", "#a40e26", "#116329", "#7d4e00", "#6f42c1", "#0f7b83", "#b35900", "#57606a", "#d63384"];
  var local = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "2-digit", day: "2-digit",
                                                  hour: "2-digit", minute: "2-digit"});
  var utc = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "2-digit", day: "2-digit",
                                                hour: "2-digit", minute: "2-digit", timeZone: "UTC"});

  function draw(canvas, data) {
    var datasets = data.series.map(function (s, i) {
      var label = s.kind === "limit" ? canvas.dataset.limitLabel
        : s.kind === "listing" ? s.label + " (" + canvas.dataset.listingLabel + ")" : s.label;
      return {
        label: label,
        data: s.points.map(function (p) { return {x: p.t, y: Number(p.y)}; }),
        stepped: s.step ? "before" : false,
        borderColor: s.kind === "limit" ? "#1b1f24" : COLORS[i % COLORS.length],
        backgroundColor: s.kind === "limit" ? "#1b1f24" : COLORS[i % COLORS.length],
        borderDash: s.kind === "limit" ? [6, 4] : [],
        borderWidth: s.kind === "listing" ? 3 : 1.5,
        pointRadius: s.kind === "limit" ? 0 : 3,
        showLine: true
      };
    });
    var chart = new window.Chart(canvas, {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: {type: "linear", ticks: {callback: function (value) { return local.format(new Date(value)); },
                                      maxRotation: 0, autoSkip: true}},
          y: {title: {display: true, text: data.currency || ""}}
        },
        plugins: {
          tooltip: {callbacks: {
            title: function (items) {
              var t = new Date(items[0].parsed.x);
              return local.format(t) + "  (UTC " + utc.format(t) + ")";
            },
            label: function (item) { return item.dataset.label + ": " + item.parsed.y.toFixed(2) + " " + (data.currency || ""); }
          }}
        }
      }
    });
    canvas.dataset.drawn = String(datasets.reduce(function (n, d) { return n + d.data.length; }, 0));
    return chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-src]").forEach(function (canvas) {
      fetch(canvas.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { draw(canvas, data); })
        .catch(function (err) { canvas.dataset.error = String(err); });
    });
  });
})();
