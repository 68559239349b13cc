// The collaborative office's page script (CSP allows no inline script). Loaded without
// `defer` so that it registers its Alpine components before Alpine starts.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  document.addEventListener("alpine:init", function () {
    // Attachments: each chosen file is uploaded to the file service; the form keeps the ids.
    window.Alpine.data("oaAttachments", function (initial) {
      return {
        files: initial || [],
        busy: false,
        error: "",
        upload: function (event) {
          var input = event.target;
          var file = input.files && input.files[0];
          if (!file) return;
          var self = this;
          var body = new FormData();
          body.append("file", file);
          self.busy = true;
          self.error = "";
          fetch("/api/v1/files", {
            method: "POST",
            body: body,
            credentials: "same-origin",
            headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
          })
            .then(function (response) {
              return response.json().then(function (data) {
                if (!response.ok) throw new Error(data.detail || data.title || response.status);
                self.files.push({ id: data.id, name: data.name });
              });
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

    // A people picker: search by name or number, keep the chosen ones in hidden inputs.
    window.Alpine.data("oaPeoplePicker", function (initial, fieldName) {
      return {
        chosen: initial || [],
        name: fieldName,
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
            fetch("/oa/pickers/people?q=" + encodeURIComponent(q), {
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

  // Read-receipt charts: stacked bars of read and unread people per unit.
  function drawCharts(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-oa-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var data = JSON.parse(el.dataset.oaChart);
      var chart = window.echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0, left: "center", data: [el.dataset.readLabel, el.dataset.unreadLabel] },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.units, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
        series: [
          { name: el.dataset.readLabel, type: "bar", stack: "all", data: data.read, itemStyle: { color: "#2fb344" } },
          { name: el.dataset.unreadLabel, type: "bar", stack: "all", data: data.unread, itemStyle: { color: "#d6d9de" } },
        ],
      });
      window.addEventListener("resize", function () {
        chart.resize();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    drawCharts(event.target);
  });
})();
