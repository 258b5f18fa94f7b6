// The service worker's logic. /sw.js (learners/views/pwa.py) sets self.METACOACH_SW, then imports this.
// Static files have content-hashed names, so a cached copy stays right for as long as its cache lives.
// Pages are never cached: they carry the learner's data. Without a network, a page is the offline page.
"use strict";

const CONFIG = self.METACOACH_SW;
const STATIC = new URL(CONFIG.static, self.location.href);

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    const cache = await caches.open(CONFIG.cache);
    // "reload": the copies stored are fresh from the server, not whatever the HTTP cache holds.
    await cache.addAll(CONFIG.precache.map(function (url) { return new Request(url, { cache: "reload" }); }));
    // Nothing cached by an older worker is needed by this one, so it may take over at once.
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    const names = await caches.keys();
    await Promise.all(names
      .filter(function (name) { return name.startsWith(CONFIG.cachePrefix) && name !== CONFIG.cache; })
      .map(function (name) { return caches.delete(name); }));
    // The page request starts while the worker boots, so the worker costs a navigation no time.
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

// From a page that was still loading when the worker claimed the others (js/sw-register.js).
self.addEventListener("message", function (event) {
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.mode === "navigate") {
    event.respondWith(pageOrOffline(event));
    return;
  }
  const url = new URL(request.url);
  const isStatic = url.origin === STATIC.origin && url.pathname.startsWith(STATIC.pathname);
  if (request.method === "GET" && isStatic && !request.headers.has("range")) {
    event.respondWith(cacheFirst(event));
  }
  // Anything else (status polls, form posts from scripts) goes to the network as if there were no worker.
});

async function pageOrOffline(event) {
  try {
    const preloaded = await event.preloadResponse;
    return preloaded || await fetch(event.request);
  } catch (error) {
    const cache = await caches.open(CONFIG.cache);
    // The stored copy varies on the language cookie; it is the one this worker was installed for.
    const offline = await cache.match(CONFIG.offline, { ignoreVary: true });
    return offline || Response.error();
  }
}

async function cacheFirst(event) {
  const cache = await caches.open(CONFIG.cache);
  const cached = await cache.match(event.request);
  if (cached) return cached;
  const response = await fetch(event.request);
  if (response.status === 200 && response.type === "basic") {
    event.waitUntil(cache.put(event.request, response.clone()));
  }
  return response;
}
