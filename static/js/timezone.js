// The browser's time zone: fills the sign-up form's hidden field, and shows it beside the
// settings' choice so a learner who travels can pick it. The server checks the name.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone) return;
  document.querySelectorAll("input[data-detect-timezone]").forEach(function (input) {
    if (!input.value) input.value = zone;
  });
  document.querySelectorAll("[data-device-timezone]").forEach(function (element) {
    element.textContent = zone.replace(/_/g, " ");
  });
  document.querySelectorAll("[data-device-timezone-hint]").forEach(function (element) {
    element.hidden = false;
  });
})();
