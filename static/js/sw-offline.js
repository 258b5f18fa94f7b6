// The offline page's "Go back": an installed app may have no back button of its own.
(function () {
  const button = document.querySelector("[data-history-back]");
  if (!button || window.history.length < 2) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.history.back(); });
})();
