// While the worker computes a recommendation, poll its status and reload once it is ready.
(function () {
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
