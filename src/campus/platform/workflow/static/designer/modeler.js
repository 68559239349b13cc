/* The BPMN modeler page (templates/workflow/designer/modeler.html): a version's BPMN opened in
   the bpmn-js Modeler (window.BpmnJS of bpmn-modeler.production.min.js), a small properties
   panel for what the engine reads (a step's spiffworkflow:properties, a flow's condition and
   the gateway's default flow), and saving the XML as a new version through the JSON API.
   Loaded by URL before Alpine starts: the CSP allows no inline script. */
(function () {
  "use strict";
  if (window.campusModeler) return;
  window.campusModeler = true;

  const API = "/api/v1/workflow";
  // The engine keeps a step's settings as <spiffworkflow:properties><spiffworkflow:property
  // name=".." value=".."/></spiffworkflow:properties>; this teaches the modeler those elements.
  const SPIFF = {
    name: "SpiffWorkflow",
    prefix: "spiffworkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      {
        name: "Properties",
        superClass: ["Element"],
        properties: [{ name: "values", type: "Property", isMany: true }],
      },
      {
        name: "Property",
        superClass: ["Element"],
        properties: [
          { name: "name", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true },
        ],
      },
    ],
  };
  const SETTING_KEYS = ["kind", "assignee", "mode", "percent", "timeout_hours", "timeout_action", "escalate_to"];

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function format(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }

  function readData(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent || "{}") : {};
  }

  function propertiesOf(bo) {
    const values = (bo.extensionElements && bo.extensionElements.get("values")) || [];
    const found = values.find((v) => v.$type === "spiffworkflow:Properties");
    const out = {};
    for (const p of (found && found.get("values")) || []) out[p.name] = p.value;
    return out;
  }

  function emptyForm() {
    return {
      name: "",
      kind: "approve",
      assignee: '{"kind": "applicant"}',
      mode: "any",
      percent: "50",
      timeout_hours: "",
      timeout_action: "remind",
      escalate_to: "",
      condition: "",
      isDefault: false,
      canDefault: false,
    };
  }

  function bpmnModeler(dataId) {
    const data = readData(dataId);
    const labels = data.labels || { text: {} };
    // The modeler lives outside Alpine's reactive data: it is large and not for watching.
    let modeler = null;
    let current = null;
    return {
      labels: labels,
      text: labels.text || {},
      version: data.version,
      elementType: "",
      elementId: "",
      form: emptyForm(),
      formError: "",
      errors: [],
      message: "",
      savedVersion: null,
      saving: false,
      dirty: false,
      publishOnSave: false,
      loadError: "",

      async init() {
        modeler = new window.BpmnJS({
          container: this.$refs.canvas,
          moddleExtensions: { spiffworkflow: SPIFF },
        });
        try {
          const response = await fetch(data.xml_url, { credentials: "same-origin", headers: { Accept: "application/xml" } });
          if (!response.ok) throw new Error("HTTP " + response.status);
          await modeler.importXML(await response.text());
          modeler.get("canvas").zoom("fit-viewport", "auto");
          this.$refs.canvas.dataset.state = "ready";
        } catch (e) {
          this.loadError = this.text.load_failed;
          return;
        }
        modeler.on("selection.changed", (event) => {
          const selection = event.newSelection || [];
          this.choose(selection.length === 1 ? selection[0] : null);
        });
        modeler.on("commandStack.changed", () => {
          this.dirty = true;
        });
        // The engine runs user tasks only: a task drawn from the palette becomes one.
        modeler.on("commandStack.shape.create.postExecuted", (event) => {
          const shape = event.context && event.context.shape;
          if (shape && shape.type === "bpmn:Task") {
            setTimeout(() => modeler.get("bpmnReplace").replaceElement(shape, { type: "bpmn:UserTask" }));
          }
        });
        window.addEventListener("beforeunload", (event) => {
          if (this.dirty && !this.saving) {
            event.preventDefault();
            event.returnValue = this.text.unsaved;
          }
        });
      },

      get isStep() {
        return this.elementType === "bpmn:UserTask";
      },

      get isFlow() {
        return this.elementType === "bpmn:SequenceFlow";
      },

      choose(element) {
        current = element && element.type !== "label" ? element : element && element.labelTarget;
        this.formError = "";
        if (!current || current.type === "bpmn:Process") {
          current = null;
          this.elementType = "";
          this.elementId = "";
          return;
        }
        const bo = current.businessObject;
        const form = emptyForm();
        form.name = bo.name || "";
        if (current.type === "bpmn:UserTask") {
          const props = propertiesOf(bo);
          for (const key of SETTING_KEYS) if (props[key] !== undefined) form[key] = props[key];
        }
        if (current.type === "bpmn:SequenceFlow") {
          form.condition = bo.conditionExpression ? bo.conditionExpression.body || "" : "";
          const source = current.source;
          form.canDefault = !!source && (source.type === "bpmn:ExclusiveGateway");
          form.isDefault = form.canDefault && source.businessObject.default === bo;
        }
        this.form = form;
        this.elementType = current.type;
        this.elementId = current.id;
      },

      settings() {
        const f = this.form;
        const settings = { kind: f.kind };
        try {
          settings.assignee = JSON.stringify(JSON.parse(f.assignee));
          if (f.kind === "approve") {
            settings.mode = f.mode;
            settings.percent = String(f.percent || 50);
            if (String(f.timeout_hours).trim()) {
              settings.timeout_hours = String(f.timeout_hours).trim();
              settings.timeout_action = f.timeout_action;
              if (f.timeout_action === "escalate") settings.escalate_to = JSON.stringify(JSON.parse(f.escalate_to));
            }
          }
        } catch (e) {
          return null;
        }
        return settings;
      },

      apply() {
        if (!current) return;
        const modeling = modeler.get("modeling");
        const moddle = modeler.get("moddle");
        const bo = current.businessObject;
        const updates = { name: this.form.name.trim() || undefined };
        this.formError = "";
        if (this.isStep) {
          const settings = this.settings();
          if (!settings) {
            this.formError = this.text.bad_json;
            return;
          }
          const others = ((bo.extensionElements && bo.extensionElements.get("values")) || []).filter(
            (v) => v.$type !== "spiffworkflow:Properties"
          );
          const properties = moddle.create("spiffworkflow:Properties", {
            values: Object.keys(settings).map((name) => moddle.create("spiffworkflow:Property", { name: name, value: settings[name] })),
          });
          updates.extensionElements = moddle.create("bpmn:ExtensionElements", { values: others.concat([properties]) });
        }
        if (this.isFlow) {
          const condition = this.form.isDefault ? "" : this.form.condition.trim();
          updates.conditionExpression = condition ? moddle.create("bpmn:FormalExpression", { body: condition }) : undefined;
        }
        modeling.updateProperties(current, updates);
        if (this.isFlow && this.form.canDefault) {
          const gateway = current.source;
          if (this.form.isDefault) modeling.updateProperties(gateway, { default: bo });
          else if (gateway.businessObject.default === bo) modeling.updateProperties(gateway, { default: undefined });
        }
      },

      async save() {
        if (this.saving || !modeler) return;
        this.saving = true;
        this.errors = [];
        this.message = "";
        try {
          const { xml } = await modeler.saveXML({ format: true });
          const response = await fetch(API + "/processes/" + encodeURIComponent(data.key) + "/versions", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
            body: JSON.stringify({ bpmn: xml, publish: this.publishOnSave }),
          });
          if (!response.ok) {
            let problem = {};
            try {
              problem = await response.json();
            } catch (e) {
              problem = { detail: response.status + " " + response.statusText };
            }
            this.errors = (problem.errors || []).map((e) => e.reason);
            if (!this.errors.length) this.errors = [problem.detail || problem.title || this.text.failed];
            return;
          }
          const out = await response.json();
          this.savedVersion = out.versions[0].version;
          this.message = format(this.text.saved, { n: this.savedVersion });
          this.dirty = false;
        } catch (e) {
          this.errors = [this.text.network];
        } finally {
          this.saving = false;
        }
      },

      async download() {
        if (!modeler) return;
        const { xml } = await modeler.saveXML({ format: true });
        const link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
        link.download = data.key + ".bpmn";
        document.body.appendChild(link);
        link.click();
        setTimeout(() => {
          URL.revokeObjectURL(link.href);
          link.remove();
        }, 0);
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("bpmnModeler", bpmnModeler);
  });
})();
