// Timetabling pages (CSP allows no inline script): the cost curve of a run, and the week grid's
// drag-and-drop. While a lecture is dragged, every cell is coloured by whether it may go there
// (asked from /lectures/{id}/options, the reason on hover); the server validates the drop again.
(function () {
  "use strict";
  var API = "/api/v1/academic/timetabling";

  function csrf() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  // ---------------------------------------------------------------- cost curve
  var chart = null;
  function drawChart() {
    var el = document.getElementById("cost-chart");
    var card = document.getElementById("run-card");
    if (!el || !card || !window.echarts) return;
    var history = JSON.parse(card.dataset.history || "[]");
    if (!chart) chart = window.echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: "s" },
      yAxis: { type: "value", scale: true },
      series: [{ type: "line", showSymbol: false, step: "end", data: history }],
    });
  }

  // ---------------------------------------------------------------- the grid
  function message(text, ok) {
    var box = document.getElementById("tt-message");
    if (!box) return;
    box.textContent = text;
    box.className = "alert " + (ok ? "alert-success" : "alert-danger");
  }

  function clearMarks() {
    document.querySelectorAll(".tt-cell").forEach(function (cell) {
      cell.classList.remove("tt-ok", "tt-blocked");
      cell.removeAttribute("title");
      delete cell.dataset.room;
    });
  }

  function markOptions(lectureId) {
    return fetch(API + "/lectures/" + lectureId + "/options", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (options) {
        options.forEach(function (o) {
          var cell = document.querySelector('.tt-cell[data-day="' + o.day + '"][data-block="' + o.block + '"]');
          if (!cell) return;
          cell.classList.add(o.ok ? "tt-ok" : "tt-blocked");
          cell.title = (o.ok ? o.warnings : o.reasons).join("\n");
          if (o.ok && o.room_id) cell.dataset.room = o.room_id;
        });
      });
  }

  function move(lectureId, cell) {
    var body = { day: Number(cell.dataset.day), block: Number(cell.dataset.block) };
    if (cell.dataset.room) body.room_id = Number(cell.dataset.room);
    return fetch(API + "/lectures/" + lectureId + "/move", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (r.ok) {
          message("已调整：" + data.section + " → " + cell.closest("table").querySelectorAll("thead th")[body.day + 1].textContent + " 第" + body.block + "大节 " + data.room, true);
          var card = document.querySelector('[data-lecture="' + lectureId + '"].tt-lecture');
          if (card) {
            cell.appendChild(card);
            card.dataset.room = data.room_id;
          }
        } else {
          message(data.detail || "调整失败", false);
        }
      });
    });
  }

  function setupGrid() {
    var editor = document.getElementById("tt-editor");
    if (!editor) return;
    var dragged = null;
    editor.addEventListener("dragstart", function (event) {
      var card = event.target.closest(".tt-lecture");
      if (!card) return;
      dragged = card.dataset.lecture;
      event.dataTransfer.setData("text/plain", dragged);
      event.dataTransfer.effectAllowed = "move";
      markOptions(dragged);
    });
    editor.addEventListener("dragend", function () {
      setTimeout(clearMarks, 50);
    });
    editor.addEventListener("dragover", function (event) {
      if (event.target.closest(".tt-cell")) event.preventDefault();
    });
    editor.addEventListener("drop", function (event) {
      var cell = event.target.closest(".tt-cell");
      if (!cell || !dragged) return;
      event.preventDefault();
      var id = dragged;
      dragged = null;
      move(id, cell).then(clearMarks);
    });
    editor.addEventListener("click", function (event) {
      var button = event.target.closest(".tt-pin");
      if (!button) return;
      var pinned = button.dataset.pinned !== "true";
      fetch(API + "/lectures/" + button.dataset.lecture + "/pin", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ pinned: pinned }),
      }).then(function (r) {
        if (!r.ok) return;
        button.dataset.pinned = pinned ? "true" : "false";
        button.textContent = pinned ? "解锁" : "锁定";
        var card = button.closest(".tt-lecture");
        card.classList.toggle("border-warning", pinned);
        card.draggable = !pinned;
      });
    });
  }

  // Test and keyboard hook: move a lecture without dragging (also used by the browser test).
  window.ttMove = function (lectureId, day, block) {
    var cell = document.querySelector('.tt-cell[data-day="' + day + '"][data-block="' + block + '"]');
    return markOptions(lectureId).then(function () { return move(lectureId, cell); }).then(clearMarks);
  };

  document.addEventListener("DOMContentLoaded", function () {
    drawChart();
    setupGrid();
    // The print view opens the browser's print dialog (save as PDF there).
    if (document.querySelector(".tt-print")) window.print();
  });
  document.addEventListener("htmx:afterSwap", drawChart);
})();
