// The live clock of a running study session. The server keeps the real state; without
// JavaScript the page shows the minutes at load time and the finish form still works.
(function () {
  const box = document.getElementById("timer");
  if (!box) return;
  const clock = document.getElementById("clock");
  const state = document.getElementById("timer-state");
  const phaseLeft = document.getElementById("phase-left");
  const minutesField = document.getElementById("id_minutes");
  const prompts = Array.from(document.querySelectorAll("#prompts li"));
  const paused = box.dataset.paused === "true";
  const pomodoro = box.dataset.pomodoro === "true";
  const loadedAt = Date.now();
  const elapsedAtLoad = Number(box.dataset.elapsed) || 0;
  // A fresh form follows the clock until the learner types; one sent back with an error keeps
  // what they sent. An empty field saves the timer's minutes, which its placeholder shows.
  let followClock = Boolean(minutesField) && minutesField.dataset.followsClock === "true" &&
    minutesField.value === minutesField.defaultValue;  // not if typed in before this script ran
  if (minutesField) minutesField.addEventListener("input", function () { followClock = false; });

  function pad(n) { return String(n).padStart(2, "0"); }
  function format(seconds) {
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }
  function tick() {
    const elapsed = paused ? elapsedAtLoad : elapsedAtLoad + Math.floor((Date.now() - loadedAt) / 1000);
    clock.textContent = format(elapsed);
    if (minutesField) {
      const minutes = String(Math.min(600, Math.max(1, Math.round(elapsed / 60))));
      minutesField.placeholder = minutes;
      if (followClock) minutesField.value = minutes;
    }
    if (pomodoro && !paused) {
      const cycle = 30 * 60, into = elapsed % cycle, round = Math.floor(elapsed / cycle) + 1;
      const onBreak = into >= 25 * 60;
      const left = onBreak ? cycle - into : 25 * 60 - into;
      const label = (onBreak ? box.dataset.breakLabel : box.dataset.focusLabel) + " · " + box.dataset.roundLabel + " " + round;
      // Only the phase is announced; the countdown next to it is not, or it would speak every second.
      if (state.textContent.trim() !== label) state.textContent = label;
      if (phaseLeft) phaseLeft.textContent = box.dataset.leftLabel.replace("{time}", format(left));
    }
    // A new prompt every five minutes, in turn.
    if (prompts.length) {
      const current = Math.floor(elapsed / 300) % prompts.length;
      prompts.forEach(function (li, i) { li.classList.toggle("current", i === current); });
    }
  }
  tick();
  setInterval(tick, 1000);
})();
