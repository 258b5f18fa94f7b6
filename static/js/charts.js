// Draws each figure the page embeds as JSON (learners/charts) into the element it names, when that
// element comes near the screen. plotly.js (1.2 MB to parse) is fetched only then, so a page whose
// charts are below the fold, as on a phone, becomes usable without it. Safe to run again (the
// engine page does, after bringing in a new figure).
(function () {
  "use strict";
  // No mode bar: its buttons would be focusable inside a figure hidden from screen readers.
  var config = { displaylogo: false, displayModeBar: false, responsive: true };
  var me = document.currentScript || document.querySelector("script[data-plotly]");
  var plotlySrc = me && me.dataset.plotly;
  var loading = window.__metacoachPlotly || null;

  function plotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = plotlySrc;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
      window.__metacoachPlotly = loading;
    }
    return loading;
  }

  function draw(target, source) {
    plotly().then(function (Plotly) {
      // One figure per task, so no single task holds the page for long.
      setTimeout(function () {
        var figure = JSON.parse(source.textContent);
        Plotly.newPlot(target, figure.data, figure.layout, config);
      }, 0);
    });
  }

  var pending = [];
  document.querySelectorAll("script[data-plotly-figure]").forEach(function (source) {
    var target = document.getElementById(source.dataset.plotlyFigure);
    if (!target || target.dataset.drawn) return;
    target.dataset.drawn = "1";
    pending.push([target, source]);
  });
  if (!pending.length || !plotlySrc) return;
  if (!("IntersectionObserver" in window)) {
    pending.forEach(function (p) { draw(p[0], p[1]); });
    return;
  }
  var sources = new Map(pending);
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      observer.unobserve(entry.target);
      draw(entry.target, sources.get(entry.target));
    });
  }, { rootMargin: "400px 0px" });
  pending.forEach(function (p) { observer.observe(p[0]); });
})();
