// Finished edges of forms, on top of pages that work without it: a live character counter under
// every limited text field, and forms that disable their buttons once submitted. The server's
// one-time key is what guarantees a single save; this only spares the second request.
(function () {
  // Announced to screen readers only this close to the limit, not at every keystroke before.
  const NEAR = 0.9;

  function length(text) {
    // Characters as the server counts them: code points, a line break as one.
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  document.querySelectorAll("[data-count-for]").forEach(function (counter) {
    const field = document.getElementById(counter.dataset.countFor);
    const limit = Number(counter.dataset.limit);
    if (!field || !limit) return;
    const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(counter.id)) field.setAttribute("aria-describedby", described.concat(counter.id).join(" "));
    function update() {
      const n = length(field.value);
      if (n >= limit * NEAR) counter.setAttribute("aria-live", "polite");
      else counter.removeAttribute("aria-live");
      counter.classList.toggle("near", n >= limit * NEAR && n <= limit);
      counter.classList.toggle("over", n > limit);
      counter.textContent = n + " / " + limit;
    }
    update();
    counter.hidden = false;
    field.addEventListener("input", update);
  });

  // Going back to a form, a browser restores what was typed in it, even into a page it fetches
  // again, but only what differs from the page's own value. Marked so, the one-time key of the
  // page the learner filled in comes back with their entries, and the server knows a resubmission.
  document.querySelectorAll("form[data-submit-once] input[name=submission_key]").forEach(function (key) {
    key.value = key.value;  // the key restored from the earlier page, if any, else this page's
    key.defaultValue = "";
  });

  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted === "true") { event.preventDefault(); return; }
      form.dataset.submitted = "true";
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    });
  });

  // Back to a page kept in the browser's cache: its form can be sent again (the key answers that).
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[aria-busy]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
