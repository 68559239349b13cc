// The messaging pages' script (CSP allows no inline script): the send page's pickers and
// audience preview (an Alpine component, so loaded without `defer` to register before Alpine
// starts), and the reads-over-time chart of the statistics page.
(function () {
  "use strict";

  function audienceOf(form) {
    var data = new FormData(form);
    var ints = function (name) {
      return data.getAll(name).map(Number).filter(function (n) { return n > 0; });
    };
    return {
      everyone: data.get("everyone") === "on",
      person_types: data.getAll("person_types"),
      person_ids: ints("person_ids"),
      role_codes: data.getAll("role_codes"),
      org_unit_ids: ints("org_unit_ids"),
      class_ids: ints("class_ids"),
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("messagingSend", function (initial) {
      return {
        template: initial.template || "",
        everyone: !!initial.everyone,
        people: initial.people || [],
        q: "",
        found: [],
        sizeText: "",
        timer: null,
        search: function () {
          var self = this;
          clearTimeout(self.timer);
          var q = self.q.trim();
          if (!q) { self.found = []; return; }
          self.timer = setTimeout(function () {
            fetch("/messaging/pickers/people?q=" + encodeURIComponent(q), {
              credentials: "same-origin",
              headers: { Accept: "application/json" },
            })
              .then(function (r) { return r.ok ? r.json() : []; })
              .then(function (rows) { self.found = rows; });
          }, 200);
        },
        addPerson: function (p) {
          if (!this.people.some(function (x) { return x.id === p.id; })) this.people.push(p);
          this.q = "";
          this.found = [];
        },
        removePerson: function (p) {
          this.people = this.people.filter(function (x) { return x.id !== p.id; });
        },
        preview: function (form) {
          var self = this;
          self.sizeText = "…";
          fetch("/api/v1/messaging/audience/size", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": window.campus.csrfToken() },
            body: JSON.stringify(audienceOf(form)),
          })
            .then(function (r) {
              return r.json().then(function (data) {
                self.sizeText = r.ok ? String(data.size) + " 人" : (data.detail || data.title);
              });
            })
            .catch(function (err) { self.sizeText = String(err); });
        },
      };
    });
  });

  function drawCharts() {
    if (!window.echarts) return;
    var nodes = document.querySelectorAll("[data-messaging-chart]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var data = JSON.parse(node.getAttribute("data-messaging-chart"));
      var chart = window.echarts.init(node);
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [node.dataset.readLabel, node.dataset.cumulativeLabel] },
        grid: { left: 40, right: 40, top: 30, bottom: 30 },
        xAxis: { type: "category", data: data.labels },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
        series: [
          { name: node.dataset.readLabel, type: "bar", data: data.read },
          { name: node.dataset.cumulativeLabel, type: "line", yAxisIndex: 1, data: data.cumulative, smooth: true },
        ],
      });
      window.addEventListener("resize", chart.resize);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
