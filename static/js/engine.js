// While an engine run is queued or running, poll its status: move the progress bar and keep the
// run's row in the table saying the same. Once the run is over, bring in the runs table and the
// evaluation from the page itself, so the finished run's figures show without a reload.
(function () {
  "use strict";
  const box = document.getElementById("engine-progress");
  if (!box || box.dataset.active !== "true") return;
  const bar = document.getElementById("engine-progress-bar");
  const text = document.getElementById("engine-progress-text");
  const error = document.getElementById("engine-error");
  const labels = JSON.parse(document.getElementById("engine-messages").textContent);
  // The page loads plotly.js and the script that draws its charts only when it has a chart.
  const CHART_DRAWER = /\/js\/charts[.\/]/;
  let failures = 0;

  function show(data) {
    const progress = data.status === "succeeded" ? 100 : data.progress;
    bar.value = progress;
    bar.textContent = progress + "%";
    text.textContent = data.status === "failed" ? data.status_label : data.status_label + " (" + progress + "%)";
    if (data.error) {
      error.textContent = data.error;
      error.hidden = false;
    }
    const status = document.querySelector("#" + box.dataset.row + " .status");
    if (status) {
      status.textContent = data.status_label;
      status.className = "status status-" + data.status;
    }
  }

  function load(original) {
    const script = document.createElement("script");
    script.src = original.src;
    Object.assign(script.dataset, original.dataset); // charts.js reads where plotly.js is
    script.async = false; // in the page's order
    document.head.appendChild(script);
  }

  async function refresh() {
    const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    ["evaluation", "runs"].forEach(function (id) {
      const now = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (now && next) now.replaceWith(document.adoptNode(next));
    });
    // plotly.js's own rules as a stylesheet, before plotly.js: under the CSP it may not inject them.
    const sheet = fresh.getElementById("plotly.js-style-global");
    if (sheet && !document.getElementById(sheet.id)) document.head.appendChild(document.adoptNode(sheet));
    // Scripts the page lacks (a first chart needs plotly.js), and the chart drawer again for the new figure.
    const present = new Set(Array.from(document.querySelectorAll("script[src]"), function (s) { return s.src; }));
    fresh.head.querySelectorAll("script[src]").forEach(function (script) {
      if (!present.has(script.src) || CHART_DRAWER.test(script.src)) load(script);
    });
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      failures = 0;
      show(data);
      if (!data.active) {
        // The row already says how it ended; the figures follow, or stay until the next visit.
        refresh().catch(function () {});
        return;
      }
    } catch (err) {
      failures += 1;
      if (failures >= 3) text.textContent = labels.unreachable;
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
