// While an engine run is queued or running, poll its status and move the progress bar.
(function () {
  const box = document.getElementById("engine-progress");
  if (!box || box.dataset.active !== "true") return;
  const bar = document.getElementById("engine-progress-bar");
  const text = document.getElementById("engine-progress-text");
  const error = document.getElementById("engine-error");
  const labels = JSON.parse(document.getElementById("engine-messages").textContent);
  let failures = 0;

  function show(data) {
    const progress = data.status === "succeeded" ? 100 : data.progress;
    bar.value = progress;
    bar.textContent = progress + "%";
    text.textContent = (labels[data.status] || data.status) + " (" + progress + "%)";
    if (data.error) {
      error.textContent = data.error;
      error.hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      failures = 0;
      show(data);
      if (!data.active) {
        // Reload once so the runs table and the evaluation chart show the finished run.
        setTimeout(function () { window.location.reload(); }, 1500);
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
