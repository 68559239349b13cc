// QR-code login on the login page. Follows the state of the QR code on screen through
// Server-Sent Events (no polling) and, once a phone has confirmed, trades the one-time token
// pushed by the server for this browser's session, then goes where the login page was to lead.
(function () {
  "use strict";

  var FINAL = { confirmed: true, denied: true, expired: true };
  var following = null; // the EventSource of the panel on screen

  function message(panel, name) {
    return panel.getAttribute("data-msg-" + name) || "";
  }

  function show(panel, state, text) {
    panel.setAttribute("data-qr-state", state);
    var status = panel.querySelector("[data-qr-status]");
    if (status) {
      status.textContent = text;
      status.className = state === "failed" || state === "denied" ? "mb-1 text-danger" : "mb-1";
    }
    var image = panel.querySelector("[data-qr-image]");
    if (image) {
      image.style.opacity = state === "pending" ? "1" : "0.25";
    }
  }

  function exchange(panel, token) {
    fetch(panel.getAttribute("data-qr-exchange"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": panel.getAttribute("data-csrf"),
      },
      body: JSON.stringify({ challenge: panel.getAttribute("data-qr-challenge"), token: token }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (result.ok) {
          panel.setAttribute("data-qr-state", "signed-in");
          window.location.assign(result.body.redirect || "/");
        } else {
          show(panel, "failed", result.body.detail || message(panel, "failed"));
        }
      })
      .catch(function () {
        show(panel, "failed", message(panel, "failed"));
      });
  }

  function follow(panel) {
    if (following) {
      following.close();
    }
    var source = new EventSource(panel.getAttribute("data-qr-events"));
    following = source;
    source.addEventListener("state", function (event) {
      var data = JSON.parse(event.data);
      show(panel, data.state, message(panel, data.state));
      if (FINAL[data.state]) {
        source.close();
      }
      if (data.state === "confirmed" && data.exchange) {
        exchange(panel, data.exchange);
      }
    });
    source.onerror = function () {
      // The browser reconnects by itself after a dropped connection; a refusal closes it.
      if (source.readyState === EventSource.CLOSED && !FINAL[panel.getAttribute("data-qr-state")]) {
        show(panel, "failed", message(panel, "failed"));
      }
    };
  }

  document.addEventListener("htmx:load", function (event) {
    var element = event.detail.elt;
    var panel = element.matches("[data-qr-challenge]")
      ? element
      : element.querySelector("[data-qr-challenge]");
    if (panel) {
      follow(panel);
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "qr-login-panel") {
      return;
    }
    // The QR code on screen is being replaced: stop following the old one.
    if (following) {
      following.close();
      following = null;
    }
    // A refusal of a new QR code (too many requests) is a panel too: show it, not nothing.
    if (event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
