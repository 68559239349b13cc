// What the pages of several modules share (CSP allows no inline script): the CSRF token, an
// upload to the file service, and the Alpine components built on them. The layout loads it with
// `defer` before Alpine, so that its components are registered before Alpine starts; a module's
// own script may call `window.campus` once the page has loaded.
(function () {
  "use strict";

  // The page's CSRF token: a form's hidden input, else the header htmx sends.
  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  // Uploads one file to the file service; resolves with its record ({id, name, …}), rejects
  // with the refusal's words.
  function uploadFile(file) {
    var body = new FormData();
    body.append("file", file);
    return fetch("/api/v1/files", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || data.title || response.status);
        return data;
      });
    });
  }

  window.campus = { csrfToken: csrfToken, uploadFile: uploadFile };

  document.addEventListener("alpine:init", function () {
    // Attachments: each chosen file is uploaded to the file service; the form keeps the ids
    // (one file when `single`: a new one replaces it).
    window.Alpine.data("campusUpload", function (initial, single) {
      return {
        files: initial || [],
        busy: false,
        error: "",
        upload: function (event) {
          var input = event.target;
          var file = input.files && input.files[0];
          if (!file) return;
          var self = this;
          self.busy = true;
          self.error = "";
          uploadFile(file)
            .then(function (data) {
              var entry = { id: data.id, name: data.name };
              self.files = single ? [entry] : self.files.concat([entry]);
            })
            .catch(function (err) {
              self.error = String(err.message || err);
            })
            .finally(function () {
              self.busy = false;
              input.value = "";
            });
        },
        remove: function (file) {
          this.files = this.files.filter(function (f) {
            return f.id !== file.id;
          });
        },
      };
    });

    // A people picker: search `url` (?q=) by name or number, keep the chosen people. A pick
    // fires `change` so that a form listening for changes hears of it.
    window.Alpine.data("campusPeoplePicker", function (initial, url) {
      return {
        chosen: initial || [],
        q: "",
        found: [],
        timer: null,
        search: function () {
          var self = this;
          clearTimeout(self.timer);
          var q = self.q.trim();
          if (!q) {
            self.found = [];
            return;
          }
          self.timer = setTimeout(function () {
            fetch(url + "?q=" + encodeURIComponent(q), {
              credentials: "same-origin",
              headers: { Accept: "application/json" },
            })
              .then(function (r) {
                return r.ok ? r.json() : [];
              })
              .then(function (rows) {
                self.found = rows;
              });
          }, 200);
        },
        pick: function (person) {
          if (!this.chosen.some(function (p) { return p.id === person.id; })) {
            this.chosen.push(person);
            this.$nextTick(function () {
              this.$el.dispatchEvent(new Event("change", { bubbles: true }));
            }.bind(this));
          }
          this.q = "";
          this.found = [];
        },
        remove: function (person) {
          this.chosen = this.chosen.filter(function (p) {
            return p.id !== person.id;
          });
        },
      };
    });
  });
})();
