// While the worker computes a recommendation, poll its status and reload once it is ready.
(function () {
  // The expected-score band's range and mark arrive as data attributes, since the Content Security
  // Policy allows no style attributes; app.css positions them from these custom properties.
  document.querySelectorAll(".band[data-low]").forEach(function (band) {
    ["low", "high", "mid"].forEach(function (name) {
      band.style.setProperty("--" + name, band.dataset[name] + "%");
    });
  });
  const card = document.getElementById("recommendation");
  if (!card) return;
  const pending = card.dataset.stale === "true";
  if (!pending) return;
  let tries = 0;
  const timer = setInterval(async function () {
    tries += 1;
    if (tries > 60) { clearInterval(timer); return; }
    try {
      const response = await fetch(card.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const state = await response.json();
      if (state.ready) { clearInterval(timer); window.location.reload(); return; }
      const line = document.getElementById("recommendation-status");
      if (line && state.label) line.textContent = state.label;
    } catch (err) { /* the next poll tries again */ }
  }, 2000);
})();
