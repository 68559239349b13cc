// The site-wide live stream (one EventSource per page) and the bell in the header.
//
// Every frame the server pushes to the signed-in person arrives as a server-sent event named by
// its type; this script re-dispatches it as a window CustomEvent "campus:<type>" whose detail is
// the frame, so that any page (the inbox, chats, the community) can listen without opening a
// stream of its own:
//     window.addEventListener("campus:im.message", function (e) { ... e.detail ... });
// Frame types not listed below are picked up once a page calls campusLive.watch("<type>").
// The browser reconnects by itself and sends Last-Event-ID; the server replays the
// notifications missed meanwhile, and notifications already seen are not dispatched twice.
(function () {
  "use strict";
  if (window.campusLive) return;

  var KNOWN = [
    "unread", "notification", "notification.read", "resync",
    "post", "im.message", "im.recall", "im.read", "im.typing", "presence",
  ];
  var source = null;
  var watched = {};
  var seen = {};
  var unread = 0;

  function dispatch(type, frame) {
    window.dispatchEvent(new CustomEvent("campus:" + type, { detail: frame }));
  }

  function setBadge(count) {
    unread = Math.max(0, count | 0);
    var badges = document.querySelectorAll("[data-campus-unread]");
    for (var i = 0; i < badges.length; i++) {
      badges[i].textContent = unread > 99 ? "99+" : String(unread);
      badges[i].dataset.count = String(unread);
      badges[i].classList.toggle("d-none", unread <= 0);
    }
  }

  function toast(frame) {
    var box = document.getElementById("campus-live-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "campus-live-toasts";
      box.className = "toast-container position-fixed top-0 end-0 p-3";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var item = document.createElement("a");
    item.className = "toast show d-block text-reset text-decoration-none mb-2" +
      (frame.priority === "emergency" ? " border-danger" : "");
    item.href = "/messaging/notifications/" + frame.id;
    item.setAttribute("role", frame.priority === "emergency" ? "alert" : "status");
    item.dataset.testid = "live-toast";
    var body = document.createElement("div");
    body.className = "toast-body";
    var title = document.createElement("strong");
    title.textContent = frame.title || "";
    body.appendChild(title);
    item.appendChild(body);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, frame.priority === "emergency" ? 30000 : 8000);
  }

  function handle(type, event) {
    var frame;
    try {
      frame = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (type === "notification") {
      if (seen[frame.id]) return;
      seen[frame.id] = true;
      // A replayed one is already in the unread count the stream sent before it.
      if (!frame.replayed) {
        setBadge(unread + 1);
        toast(frame);
      }
    } else if (type === "unread") {
      setBadge(frame.count);
    } else if (type === "notification.read") {
      setBadge(frame.unread);
    }
    dispatch(type, frame);
  }

  function watch(type) {
    if (watched[type]) return;
    watched[type] = true;
    if (source) {
      source.addEventListener(type, function (event) { handle(type, event); });
    }
  }

  function open() {
    if (source || !window.EventSource) return;
    source = new EventSource("/api/v1/messaging/live");
    Object.keys(watched).forEach(function (type) {
      source.addEventListener(type, function (event) { handle(type, event); });
    });
    source.addEventListener("error", function () {
      // 401 after signing out: stop instead of retrying for ever.
      if (source && source.readyState === EventSource.CLOSED) source = null;
    });
  }

  KNOWN.forEach(function (type) { watched[type] = true; });
  window.campusLive = {
    watch: watch,
    unread: function () { return unread; },
  };
  // Pages whose lists follow live frames name them: data-campus-refresh-on="notification".
  window.addEventListener("campus:notification", function () {
    var lists = document.querySelectorAll("[data-campus-refresh-on~='notification']");
    for (var i = 0; i < lists.length; i++) {
      if (window.htmx) window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: lists[i] });
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", open);
  } else {
    open();
  }
})();
