// Draws each figure the page embeds as JSON (learners/charts) into the element it names.
// Loaded with `defer` after plotly.js, so both run once the page is parsed.
(function () {
  "use strict";
  // No mode bar: its buttons would be focusable inside a figure hidden from screen readers.
  var config = { displaylogo: false, displayModeBar: false, responsive: true };
  document.querySelectorAll("script[data-plotly-figure]").forEach(function (source) {
    var target = document.getElementById(source.dataset.plotlyFigure);
    if (!target || !window.Plotly) return;
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, config);
  });
})();
