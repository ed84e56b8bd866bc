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

  // Per-day charts: the overview's compliance rate (overall and per partner) and new against closed; a
  // partner's compliance rate; crawl failure rates per site.
  function drawTrend(canvas, data) {
    var datasets, labels, type = "line", yOptions = {};
    if (canvas.dataset.chart === "compliance") {
      var c = data.compliance;
      datasets = [{label: canvas.dataset.overallLabel, data: c.overall.map(function (r) { return r === null ? null : r * 100; }),
                   borderColor: "#1b1f24", backgroundColor: "#1b1f24", borderWidth: 3, spanGaps: true}];
      Object.keys(c.partners).forEach(function (code, i) {
        datasets.push({label: code, data: c.partners[code].map(function (r) { return r === null ? null : r * 100; }),
                       borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
                       borderWidth: 1.5, spanGaps: true});
      });
      yOptions = {min: 0, max: 100, title: {display: true, text: "%"}};
      labels = c.days;
    } else if (canvas.dataset.chart === "rate" || canvas.dataset.chart === "lines") {
      // One partner's compliance rate ("rate"), or several named series of shares ("lines"), per day in %.
      var lines = canvas.dataset.chart === "rate" ? [{label: canvas.dataset.rateLabel, values: data.rate}] : data.lines;
      datasets = lines.map(function (line, i) {
        return {label: line.label, data: line.values.map(function (r) { return r === null ? null : r * 100; }),
                borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
                borderWidth: 2, spanGaps: true};
      });
      yOptions = {min: 0, max: 100, title: {display: true, text: "%"}};
      labels = data.days;
    } else {
      var f = data.flow;
      type = "bar";
      datasets = [{label: canvas.dataset.openedLabel, data: f.opened, backgroundColor: "#a40e26"},
                  {label: canvas.dataset.closedLabel, data: f.closed, backgroundColor: "#116329"}];
      yOptions = {beginAtZero: true, ticks: {precision: 0}};
      labels = f.days;
    }
    // A rate per day starts at the first day that has one (a week at least): 90 days of which three hold
    // data draw as a line squeezed against the right edge otherwise.
    if (type === "line") {
      var first = labels.findIndex(function (_, i) {
        return datasets.some(function (d) { return d.data[i] !== null && d.data[i] !== undefined; }); });
      var start = first < 0 ? 0 : Math.max(0, Math.min(first, labels.length - 7));
      if (start > 0) {
        labels = labels.slice(start);
        datasets.forEach(function (d) { d.data = d.data.slice(start); });
      }
    }
    new window.Chart(canvas, {type: type, data: {labels: labels, datasets: datasets},
                              options: {animation: false, maintainAspectRatio: false, scales: {y: yOptions}}});
    canvas.dataset.days = String(labels.length);
    canvas.dataset.drawn = String(datasets.reduce(function (n, d) {
      return n + d.data.filter(function (v) { return v !== null; }).length; }, 0));
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-trends]").forEach(function (canvas) {
      fetch(canvas.dataset.trends, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { drawTrend(canvas, data); })
        .catch(function (err) { canvas.dataset.error = String(err); });
    });
    document.querySelectorAll("canvas[data-src]").forEach(function (canvas) {
      fetch(canvas.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { draw(canvas, data); })
        .catch(function (err) { canvas.dataset.error = String(err); });
    });
  });
})();
