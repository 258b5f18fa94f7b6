// While the worker reads or saves an import, poll its status and move the progress bar; once it
// is done, load the page again, which then shows the preview, the result or the problem.
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box || box.dataset.active !== "true") return;
  const bar = document.getElementById("import-progress-bar");
  const text = document.getElementById("import-progress-text");
  const labels = JSON.parse(document.getElementById("import-messages").textContent);
  let failures = 0;

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      failures = 0;
      bar.value = data.progress;
      bar.textContent = data.progress + "%";
      text.textContent = data.state_label + " (" + data.progress + "%)";
      if (!data.active) {
        window.location.reload();
        return;
      }
    } catch (err) {
      failures += 1;
      if (failures >= 3) text.textContent = labels.unreachable;
    }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();
