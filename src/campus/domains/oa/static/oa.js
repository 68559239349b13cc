// The collaborative office's page script (CSP allows no inline script): the read-receipt
// charts. Its forms' attachments and people pickers are the shared components of
// /static/campus.js.
(function () {
  "use strict";

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
