/* Process diagrams (templates/workflow/designer/_diagram.html): fetches the BPMN XML, shows it
   with the bpmn-js viewer (window.BpmnJS, loaded before this file), colours each step by its
   state and keeps the whole process fitted into its box. Loaded by URL: the CSP allows no inline
   script. */
(function () {
  "use strict";
  if (window.campusDiagram) return;

  const MARGIN = 60; // diagram units kept around the process
  const MIN_HEIGHT = 160;
  const MAX_HEIGHT = 520;
  const boxes = new WeakMap(); // viewer -> the element it draws in
  const STATE_MARKERS = {
    done: "campus-step-done",
    active: "campus-step-active",
    future: "campus-step-future",
  };

  function setStatus(container, text) {
    const status = container.querySelector("[data-diagram-status]");
    if (!status) return;
    status.textContent = text || "";
    status.hidden = !text;
  }

  function parseSteps(container) {
    try {
      const steps = JSON.parse(container.dataset.steps || "[]");
      return Array.isArray(steps) ? steps : [];
    } catch (error) {
      return [];
    }
  }

  function mark(viewer, steps) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    let started = false;
    for (const step of steps) {
      const marker = STATE_MARKERS[step.state];
      if (!marker || !registry.get(step.id)) continue;
      canvas.addMarker(step.id, marker);
      started = started || step.state !== "future";
    }
    // An application that has reached a step has passed its start event.
    if (started) {
      for (const element of registry.filter((e) => e.type === "bpmn:StartEvent")) {
        canvas.addMarker(element.id, STATE_MARKERS.done);
      }
    }
  }

  // Unless the page fixed the box's height, the box takes the diagram's proportions (a wide
  // process on a phone gets a short box, not a tall empty one), within sensible bounds.
  function sizeBox(viewer) {
    const canvas = viewer.get("canvas");
    const box = boxes.get(viewer);
    if (!box || box.dataset.fixedHeight !== undefined) return;
    const inner = canvas.viewbox().inner;
    if (!inner || !inner.width) return;
    const scale = Math.min(1, box.clientWidth / (inner.width + MARGIN));
    const wanted = (inner.height + MARGIN) * scale;
    const tallest = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, window.innerHeight * 0.6));
    box.style.height = Math.round(Math.min(Math.max(wanted, MIN_HEIGHT), tallest)) + "px";
  }

  // Fits the diagram into its box, but never enlarges a small one beyond its natural size.
  function fit(viewer) {
    const canvas = viewer.get("canvas");
    sizeBox(viewer);
    canvas.resized();
    canvas.zoom("fit-viewport", "auto");
    // A little room around the edges, so that shapes and labels are not cut at the border.
    canvas.zoom(Math.min(canvas.zoom() * 0.94, 1), "auto");
  }

  async function fetchXml(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/xml, text/xml" },
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.text();
  }

  async function render(container) {
    const url = container.dataset.xmlUrl;
    const box = container.querySelector("[data-diagram-canvas]");
    if (!url || !box) return;
    const status = container.querySelector("[data-diagram-status]");
    if (status && !container.dataset.loadingText) container.dataset.loadingText = status.textContent;
    setStatus(container, container.dataset.loadingText);
    container.dataset.state = "loading";
    if (container.campusViewer) {
      container.campusViewer.destroy();
      container.campusViewer = null;
    }
    if (typeof window.BpmnJS !== "function") {
      container.dataset.state = "error";
      setStatus(container, container.dataset.errorText);
      return;
    }
    const viewer = new window.BpmnJS({ container: box });
    boxes.set(viewer, box);
    container.campusViewer = viewer;
    try {
      await viewer.importXML(await fetchXml(url));
      if (container.campusViewer !== viewer) return; // re-rendered meanwhile
      if (!viewer.get("elementRegistry").filter((e) => e.type !== "bpmn:Process").length) {
        // A process saved before layouts were added has no shapes to show.
        container.dataset.state = "empty";
        setStatus(container, container.dataset.emptyText);
        return;
      }
      mark(viewer, parseSteps(container));
      fit(viewer);
      setStatus(container, "");
      container.dataset.state = "ready";
    } catch (error) {
      if (container.campusViewer !== viewer) return;
      container.dataset.state = "error";
      setStatus(container, container.dataset.errorText);
    }
  }

  let resizeTimer = null;
  function refitAll() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      for (const container of document.querySelectorAll("[data-campus-diagram][data-state=ready]")) {
        if (container.campusViewer && container.offsetParent !== null) fit(container.campusViewer);
      }
    }, 120);
  }

  function renderNew(root) {
    const scope = root && root.querySelectorAll ? root : document;
    const found = Array.from(scope.querySelectorAll("[data-campus-diagram]:not([data-state])"));
    if (scope.matches && scope.matches("[data-campus-diagram]:not([data-state])")) found.push(scope);
    for (const container of found) render(container);
  }

  window.campusDiagram = { render: render, fit: fit };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      renderNew(document);
    });
  } else {
    renderNew(document);
  }
  document.addEventListener("htmx:load", function (event) {
    renderNew(event.target);
  });
  window.addEventListener("resize", refitAll);
  // A diagram first shown inside a collapsed card or a tab has no size until it opens.
  document.addEventListener("shown.bs.tab", refitAll);
  document.addEventListener("shown.bs.collapse", refitAll);
  document.addEventListener("shown.bs.modal", refitAll);
})();
