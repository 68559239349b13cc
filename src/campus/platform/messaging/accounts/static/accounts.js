// Pages of subscription push (CSP allows no inline script): live posts, the Web Push opt-in,
// read charts. Uploads and the editor picker are the shared components of /static/campus.js.
(function () {
  "use strict";

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": window.campus.csrfToken() },
      body: JSON.stringify(body),
    });
  }

  // ------------------------------------------------------------ live posts
  // The messaging center's live script dispatches `campus:post` for each "post" frame. A frame
  // of a mandatory account goes to every open page (one campus-wide frame instead of a loop
  // over people): this page keeps it only for an account it shows.
  function liveLists() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-posts]"));
  }

  function showPost(list, postId) {
    if (list.querySelector('[data-post-id="' + postId + '"]')) return;
    fetch("/messaging/posts/" + postId + "/card", {
      credentials: "same-origin",
      headers: { Accept: "text/html", "HX-Request": "true" },
    })
      .then(function (r) {
        return r.ok ? r.text() : "";
      })
      .then(function (html) {
        if (!html || list.querySelector('[data-post-id="' + postId + '"]')) return;
        var empty = list.querySelector("[data-empty]");
        if (empty) empty.remove();
        list.insertAdjacentHTML("afterbegin", html);
        if (window.htmx) window.htmx.process(list.firstElementChild);
      });
  }

  window.addEventListener("campus:post", function (event) {
    var frame = event.detail || {};
    liveLists().forEach(function (list) {
      var accounts = JSON.parse(list.dataset.accounts || "[]");
      if (accounts.indexOf(frame.account_id) === -1) return;
      // Campus-wide frames reach everybody at once: spread the fetches over a moment.
      var delay = frame.spread ? Math.random() * frame.spread * 1000 : 0;
      setTimeout(function () {
        showPost(list, frame.post_id);
      }, delay);
    });
  });

  // ------------------------------------------------------------ Web Push opt-in

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function setupPush(card) {
    var enable = card.querySelector("[data-push-enable]");
    var disable = card.querySelector("[data-push-disable]");
    var status = card.querySelector("[data-push-status]");
    var text = {
      on: card.dataset.textOn,
      off: card.dataset.textOff,
      denied: card.dataset.textDenied,
      refused: card.dataset.textRefused,
      failed: card.dataset.textFailed,
    };
    card.classList.remove("d-none");

    function show(on, text) {
      enable.classList.toggle("d-none", on);
      disable.classList.toggle("d-none", !on);
      if (text) status.textContent = text;
    }

    var ready = navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
    ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (subscription && Notification.permission === "granted") show(true, text.on);
        else if (Notification.permission === "denied") show(false, text.denied);
      })
      .catch(function () {
        card.classList.add("d-none");
      });

    // Browsers show the permission prompt only in answer to a gesture: this click.
    enable.addEventListener("click", function () {
      enable.disabled = true;
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") throw new Error(text.refused);
          return Promise.all([ready, fetch("/api/v1/messaging/push/key", { credentials: "same-origin" }).then(function (r) { return r.json(); })]);
        })
        .then(function (both) {
          return both[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(both[1].public_key) });
        })
        .then(function (subscription) {
          return postJSON("/api/v1/messaging/push/subscriptions", subscription.toJSON());
        })
        .then(function (response) {
          if (!response.ok) throw new Error(text.failed + " (" + response.status + ")");
          show(true, text.on);
        })
        .catch(function (err) {
          status.textContent = String(err.message || err);
        })
        .finally(function () {
          enable.disabled = false;
        });
    });

    disable.addEventListener("click", function () {
      ready
        .then(function (registration) {
          return registration.pushManager.getSubscription();
        })
        .then(function (subscription) {
          if (!subscription) return null;
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return postJSON("/api/v1/messaging/push/subscriptions/remove", { endpoint: endpoint });
          });
        })
        .then(function () {
          show(false, text.off);
        });
    });
  }

  // ------------------------------------------------------------ read charts

  function drawCharts() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-msg-chart]").forEach(function (el) {
      var data = JSON.parse(el.dataset.msgChart);
      var chart = window.echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: data.days, axisLabel: { formatter: function (d) { return d.slice(5); } } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: el.dataset.label, type: "bar", data: data.reads, itemStyle: { color: "#066fd1" } }],
      });
      window.addEventListener("resize", function () {
        chart.resize();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    if (liveLists().length) {
      document.querySelectorAll("[data-live-status]").forEach(function (el) {
        el.classList.remove("d-none");
      });
    }
    if (pushSupported()) document.querySelectorAll("[data-push-optin]").forEach(setupPush);
  });
})();
