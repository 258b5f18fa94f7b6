// Installs the service worker (learners/views/pwa.py): static files from its cache, an offline page
// when the network is gone. Without one the app works as before, only not offline.
(function () {
  const script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  const url = script.dataset.serviceWorker;
  // After the page's own requests, which the worker's install would otherwise compete with.
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        // A page whose request left before the worker was active, and which was still loading when
        // the worker claimed its pages, is left out of that claim: it asks again, now loaded.
        if (!navigator.serviceWorker.controller && registration.active) registration.active.postMessage("claim");
      })
      .catch(function () { /* stays online-only */ });
  });
})();
