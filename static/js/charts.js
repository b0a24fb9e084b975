/* Draws the charts of a page with Chart.js (static/vendor, copied from npm at build time).

   The server sends each chart as
     <figure class="chart" data-chart="bar|line" data-source="ID"><figcaption>…</figcaption>
       <script type="application/json" id="ID">{"labels": […], "datasets": [{"label", "data"}], "target"?}</script>
       <table>…</table>
     </figure>
   This script puts a canvas named after the caption before the table and hides the table
   visually only: screen readers still read the figures, and print.css prints the table.
   Without Chart.js (or without JavaScript) nothing happens and the table stays. */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }

  var INK = "#1b1f24";
  var GRID = "#c9d1d9";
  var BRAND = "#1d3f8f"; // 10:1 on white
  var TARGET = "#7a4a00"; // 7:1 on white

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function ticks(counts) {
    // A bar counts answers or sessions: no half steps on its axis.
    return counts ? { color: INK, precision: 0 } : { color: INK };
  }

  function config(kind, data, figure, width) {
    var spark = figure.classList.contains("chart-spark");
    var across = figure.dataset.axis === "y";
    // Horizontal bars: about 2.5em a bar, whatever the width; trends: a wide, low panel.
    var aspectRatio = across ? Math.max(1.2, width / (data.labels.length * 40 + 60)) : 3;
    var datasets = data.datasets.map(function (set) {
      return {
        label: set.label,
        data: set.data,
        backgroundColor: BRAND,
        borderColor: BRAND,
        borderWidth: kind === "line" ? (spark ? 2 : 2.5) : 0,
        pointRadius: kind === "line" ? (spark ? 0 : 3.5) : undefined,
        spanGaps: true,
      };
    });
    if (typeof data.target === "number") {
      datasets.push({
        type: "line",
        label: figure.dataset.targetLabel || "Target",
        data: data.labels.map(function () { return data.target; }),
        borderColor: TARGET,
        backgroundColor: TARGET,
        borderDash: [6, 4],
        borderWidth: 2,
        pointRadius: 0,
        fill: false,
      });
    }
    return {
      type: kind,
      data: { labels: data.labels, datasets: datasets },
      options: {
        animation: reduceMotion && reduceMotion.matches ? false : { duration: 400 },
        responsive: !spark,
        maintainAspectRatio: true,
        aspectRatio: aspectRatio,
        indexAxis: across ? "y" : "x",
        color: INK,
        plugins: {
          legend: { display: !spark && datasets.length > 1, labels: { color: INK } },
          tooltip: { enabled: !spark },
        },
        scales: spark
          ? { x: { display: false }, y: { display: false } }
          : {
              x: { ticks: ticks(kind === "bar" && across), grid: { color: GRID }, beginAtZero: across },
              y: { ticks: ticks(kind === "bar" && !across), grid: { color: GRID }, beginAtZero: true },
            },
      },
    };
  }

  function draw(figure) {
    if (figure.dataset.chartDrawn) {
      return;
    }
    var kind = figure.dataset.chart;
    var source = document.getElementById(figure.dataset.source || "");
    var table = figure.querySelector("table");
    if ((kind !== "bar" && kind !== "line") || !source || !table) {
      return;
    }
    var data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!data || !Array.isArray(data.labels) || !Array.isArray(data.datasets)) {
      return;
    }
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", text(figure.querySelector("figcaption")));
    if (figure.classList.contains("chart-spark")) {
      canvas.width = 120;
      canvas.height = 30;
    }
    // Chart.js sizes the canvas from its parent: a box of its own keeps the table out of the sum.
    var box = document.createElement("div");
    box.className = "chart-canvas";
    box.appendChild(canvas);
    table.parentNode.insertBefore(box, table);
    table.classList.add("visually-hidden");
    figure.dataset.chartDrawn = "true";
    new window.Chart(canvas, config(kind, data, figure, box.clientWidth || 600));
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("figure.chart[data-chart]")) {
      draw(scope);
    }
    Array.prototype.forEach.call(scope.querySelectorAll("figure.chart[data-chart]"), draw);
  }

  drawAll(document);
  // Content swapped in by htmx (a filtered dashboard) brings its own figures.
  document.addEventListener("htmx:load", function (event) {
    drawAll(event.detail && event.detail.elt);
  });
})();
