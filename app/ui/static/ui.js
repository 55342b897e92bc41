// Draws the charts of a page from its <script type="application/json" id="chart-data">.
// Loaded from the service itself; no inline script, so the page's CSP can forbid it.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof window.Chart === "undefined") {
    document.documentElement.setAttribute("data-charts-drawn", "0");
    return;
  }
  var specs = JSON.parse(source.textContent);
  var palette = ["#005eb8", "#d5281b", "#007f3b", "#ed8b00", "#330072", "#00a499", "#7c2855", "#425563"];
  var percent = new Intl.NumberFormat("en-GB", { style: "percent", maximumFractionDigits: 2 });
  var wte = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
  var gbp = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", maximumFractionDigits: 0 });

  function formatter(kind) {
    if (kind === "percent") { return function (v) { return percent.format(v); }; }
    if (kind === "gbp") { return function (v) { return gbp.format(v); }; }
    return function (v) { return wte.format(v); };
  }

  var charts = [];
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), function (canvas) {
    var spec = specs[canvas.getAttribute("data-chart")];
    if (!spec) { return; }
    var format = formatter(spec.format);
    var datasets = spec.datasets.map(function (d, i) {
      var colour = palette[i % palette.length];
      return {
        label: d.label,
        data: d.data,
        borderColor: colour,
        backgroundColor: spec.kind === "bar" ? colour : colour + "33",
        borderDash: d.dashed ? [6, 4] : [],
        borderWidth: 2,
        pointRadius: 0,
        spanGaps: false,
        tension: 0
      };
    });
    charts.push(new window.Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) { return ctx.dataset.label + ": " + (ctx.parsed.y === null ? "—" : format(ctx.parsed.y)); }
            }
          }
        },
        scales: {
          x: { stacked: spec.stacked, ticks: { maxTicksLimit: 12 } },
          y: { stacked: spec.stacked, beginAtZero: spec.kind === "bar", ticks: { callback: function (v) { return format(v); } } }
        }
      }
    }));
  });
  // Redraw at the paper's width when printing.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  document.documentElement.setAttribute("data-charts-drawn", String(charts.length));
})();
