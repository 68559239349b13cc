// The Campus service worker: shows Web Push notifications and opens what they announce.
// Served at /sw.js (scope "/") by the messaging module. It caches nothing: pages stay
// server-rendered and fresh.
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// A push carries {title, body, url, tag, icon} (encrypted by the server, decrypted by the browser).
self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: event.data ? event.data.text() : "" };
  }
  var title = data.title || "智慧校园";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      icon: data.icon || "/static/icons/campus-192.png",
      badge: "/static/icons/campus-192.png",
      tag: data.tag || undefined,
      data: { url: data.url || "/" },
    })
  );
});

// A click opens the post: in a window of this site already open if there is one.
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var path = (event.notification.data && event.notification.data.url) || "/";
  var target = new URL(path, self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        var client = windows[i];
        if (new URL(client.url).origin === target.origin && "navigate" in client) {
          return client.focus().then(function (focused) {
            return focused.navigate(target.href);
          });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
