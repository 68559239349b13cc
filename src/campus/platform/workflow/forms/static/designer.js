/* The form designer (templates/workflow/forms/designer.html): a list of fields edited in the
   browser, checked and previewed by the server as it changes, saved through the JSON API
   (/api/v1/workflow/forms). The page's CSP allows no inline script, so this file is loaded by
   URL, before Alpine starts. */
(function () {
  "use strict";
  if (window.campusFormDesigner) return;
  window.campusFormDesigner = true;

  const API = "/api/v1/workflow/forms";
  const TEXTUAL = ["text", "textarea"];
  const NUMERIC = ["number", "money"];
  const CHOICE = ["select", "multiselect"];
  const COUNTED = ["multiselect", "attachments", "table"];
  const PLACEHOLDER = ["text", "textarea", "number", "money"];
  const NO_REQUIRED = ["computed"];

  let uid = 0;
  const withUid = (item) => Object.assign({ _uid: ++uid }, item);

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  async function send(method, url, body, accept) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: accept || "application/json",
        "X-CSRF-Token": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response;
  }

  // "fields.2.columns.0.key" (pydantic) and "fields[2].columns[0].key" (checks) name one place.
  function place(path) {
    return String(path || "").replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  }

  function number(value) {
    if (value === "" || value === null || value === undefined) return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }

  function conditionValue(cond) {
    if (cond.op === "filled") return null;
    if (cond.op === "in") {
      if (Array.isArray(cond.value)) return cond.value;
      return String(cond.value || "").split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
    }
    if (["gt", "ge", "lt", "le"].indexOf(cond.op) >= 0) {
      const n = number(cond.value);
      return typeof n === "number" ? n : cond.value;
    }
    return cond.value;
  }

  function cleanOptions(options) {
    return (options || []).map((o) => ({
      value: String(o.value === undefined ? "" : o.value).trim(),
      label: String(o.label || "").trim(),
    }));
  }

  function cleanColumn(c) {
    const out = {
      key: String(c.key || "").trim(),
      label: String(c.label || "").trim(),
      widget: c.widget,
      required: !!c.required,
    };
    if (c.widget === "select") {
      out.options = String(c.optionsText || "").split(/[,，、]/).map((s) => s.trim()).filter(Boolean)
        .map((v) => ({ value: v, label: v }));
    }
    if (NUMERIC.indexOf(c.widget) >= 0) out.sum = !!c.sum;
    return out;
  }

  function cleanField(f) {
    const out = {
      key: String(f.key || "").trim(),
      label: String(f.label || "").trim(),
      widget: f.widget,
      required: NO_REQUIRED.indexOf(f.widget) < 0 && !!f.required,
    };
    if (f.help) out.help = f.help;
    if (f.placeholder && PLACEHOLDER.indexOf(f.widget) >= 0) out.placeholder = f.placeholder;
    if (CHOICE.indexOf(f.widget) >= 0) out.options = cleanOptions(f.options);
    if (TEXTUAL.concat(NUMERIC, COUNTED).indexOf(f.widget) >= 0) {
      const min = number(f.min), max = number(f.max);
      if (min !== undefined) out.min = min;
      if (max !== undefined) out.max = max;
    }
    if (f.widget === "number" && number(f.step) !== undefined) out.step = number(f.step);
    if (TEXTUAL.indexOf(f.widget) >= 0 && f.pattern) out.pattern = f.pattern;
    if (f.conditional && f.visible_if) {
      out.visible_if = { field: f.visible_if.field || "", op: f.visible_if.op || "eq" };
      const value = conditionValue(f.visible_if);
      if (value !== null) out.visible_if.value = value;
    }
    if (f.prefill) out.prefill = f.prefill;
    if (f.widget === "computed") out.formula = f.formula || "";
    if (f.widget === "table") out.columns = (f.columns || []).map(cleanColumn);
    return out;
  }

  // A field as the server sent it, with what the editor needs beside it.
  function editable(f) {
    const cond = f.visible_if || null;
    return withUid({
      key: f.key, label: f.label || "", widget: f.widget, required: !!f.required,
      help: f.help || "", placeholder: f.placeholder || "",
      options: (f.options || []).map((o) => withUid({ value: o.value, label: o.label })),
      min: f.min === null || f.min === undefined ? "" : f.min,
      max: f.max === null || f.max === undefined ? "" : f.max,
      step: f.step === null || f.step === undefined ? "" : f.step,
      pattern: f.pattern || "",
      conditional: !!cond,
      visible_if: {
        field: cond ? cond.field : "", op: cond ? cond.op : "eq",
        value: cond && Array.isArray(cond.value) ? cond.value.join(",") : (cond && cond.value !== null && cond.value !== undefined ? cond.value : ""),
      },
      prefill: f.prefill || "",
      formula: f.formula || "",
      columns: (f.columns || []).map((c) => withUid({
        key: c.key, label: c.label, widget: c.widget, required: !!c.required, sum: !!c.sum,
        optionsText: (c.options || []).map((o) => o.value).join(","),
      })),
    });
  }

  function fresh(widget, label, key, t) {
    const f = editable({ key: key, label: label, widget: widget });
    if (CHOICE.indexOf(widget) >= 0) {
      f.options = [withUid({ value: "a", label: t("option_a") }), withUid({ value: "b", label: t("option_b") })];
    }
    if (widget === "table") {
      f.columns = [
        withUid({ key: "item", label: t("column_item"), widget: "text", required: true, sum: false, optionsText: "" }),
        withUid({ key: "amount", label: t("column_amount"), widget: "money", required: true, sum: true, optionsText: "" }),
      ];
    }
    return f;
  }

  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function designer() {
    return {
      form: { id: null, key: "", name: "", description: "" },
      fields: [],
      widgets: {},
      widgetList: [],
      columnWidgets: [],
      ops: [],
      prefills: [],
      selected: null,
      errors: {},
      status: "",
      statusLevel: "info",
      previewHtml: "",
      previewStale: false,
      busy: false,
      dirty: false,
      timer: null,
      messages: {},
      init() {
        const config = JSON.parse(this.$el.dataset.designerConfig || "{}");
        this.messages = config.messages || {};
        if (config.form) Object.assign(this.form, config.form);
        this.widgetList = config.widgets || [];
        this.widgets = Object.fromEntries(this.widgetList.map((w) => [w.value, w.title]));
        this.columnWidgets = config.column_widgets || [];
        this.ops = config.ops || [];
        this.prefills = config.prefills || [];
        this.fields = (config.fields || []).map(editable);
        this.selected = this.fields.length ? this.fields[0]._uid : null;
        this.$watch("fields", () => { this.dirty = true; this.schedule(); });
        this.refresh();
      },

      // A message in the page's language; {name} is replaced by params.name.
      t(key, params) {
        return String(this.messages[key] || key).replace(/\{(\w+)\}/g, (m, name) =>
          params && params[name] !== undefined ? params[name] : m);
      },

      // ------------------------------------------------ the list of fields
      indexOf(u) { return this.fields.findIndex((f) => f._uid === u); },
      nextKey(widget) {
        const taken = new Set(this.fields.map((f) => f.key));
        let n = 1;
        while (taken.has(widget + "_" + n)) n++;
        return widget + "_" + n;
      },
      add(widget) {
        const f = fresh(widget, this.widgets[widget] || widget, this.nextKey(widget), (k) => this.t(k));
        const at = this.selected === null ? this.fields.length : this.indexOf(this.selected) + 1;
        this.fields.splice(at, 0, f);
        this.selected = f._uid;
      },
      move(u, delta) {
        const i = this.indexOf(u), j = i + delta;
        if (i < 0 || j < 0 || j >= this.fields.length) return;
        const [f] = this.fields.splice(i, 1);
        this.fields.splice(j, 0, f);
      },
      remove(u) {
        const i = this.indexOf(u);
        if (i < 0) return;
        this.fields.splice(i, 1);
        if (this.selected === u) this.selected = this.fields.length ? this.fields[Math.min(i, this.fields.length - 1)]._uid : null;
      },
      duplicate(u) {
        const i = this.indexOf(u);
        const copy = editable(cleanField(this.fields[i]));
        copy.key = this.nextKey(copy.widget);
        this.fields.splice(i + 1, 0, copy);
        this.selected = copy._uid;
      },
      earlier(u) { return this.fields.slice(0, Math.max(0, this.indexOf(u))); },
      fieldByKey(key) { return this.fields.find((f) => f.key === key); },
      prefillsFor(widget) {
        return this.prefills.filter((p) => p.widgets.indexOf(widget) >= 0);
      },
      has(list, widget) {
        const lists = { textual: TEXTUAL, numeric: NUMERIC, choice: CHOICE, counted: COUNTED, placeholder: PLACEHOLDER };
        return lists[list].indexOf(widget) >= 0;
      },
      boundsLabel(widget, which) {
        let kind = "value";
        if (TEXTUAL.indexOf(widget) >= 0) kind = "length";
        else if (widget === "table") kind = "rows";
        else if (COUNTED.indexOf(widget) >= 0) kind = "items";
        return this.t(which + "_" + kind);
      },
      formulaNames(u) {
        const names = [];
        this.earlier(u).forEach((f) => {
          if (["number", "money", "computed"].indexOf(f.widget) >= 0) names.push(f.key);
          if (f.widget === "daterange") names.push("days(" + f.key + ")");
          if (f.widget === "table") {
            f.columns.filter((c) => NUMERIC.indexOf(c.widget) >= 0)
              .forEach((c) => names.push("sum(" + f.key + "." + c.key + ")"));
          }
        });
        return names;
      },
      addOption(f) { f.options.push(withUid({ value: "", label: "" })); },
      removeOption(f, j) { f.options.splice(j, 1); },
      addColumn(f) {
        const taken = new Set(f.columns.map((c) => c.key));
        let n = 1;
        while (taken.has("col_" + n)) n++;
        f.columns.push(withUid({ key: "col_" + n, label: this.t("column_n", { n: n }), widget: "text", required: false, sum: false, optionsText: "" }));
      },
      removeColumn(f, j) { f.columns.splice(j, 1); },
      moveColumn(f, j, delta) {
        const k = j + delta;
        if (k < 0 || k >= f.columns.length) return;
        const [c] = f.columns.splice(j, 1);
        f.columns.splice(k, 0, c);
      },

      // ------------------------------------------------ problems
      fieldErrors(u) {
        const prefix = "fields[" + this.indexOf(u) + "]";
        return Object.entries(this.errors)
          .filter(([path]) => path === prefix || path.startsWith(prefix + ".") || path.startsWith(prefix + "["))
          .map(([path, reason]) => ({ path: path.slice(prefix.length + 1), reason: reason }));
      },
      formErrors() {
        return Object.entries(this.errors)
          .filter(([path]) => !path.startsWith("fields["))
          .map(([path, reason]) => ({ path: path, reason: reason }));
      },
      async problemOf(response) {
        try {
          const body = await response.json();
          const errors = {};
          (body.errors || []).forEach((e) => { errors[place(e.field)] = e.reason; });
          return { detail: body.detail || body.title || "", errors: errors };
        } catch (e) {
          return { detail: this.t("request_failed", { status: response.status }), errors: {} };
        }
      },
      say(level, text) { this.statusLevel = level; this.status = text; },

      // ------------------------------------------------ checking and previewing
      payload() { return this.fields.map(cleanField); },
      schedule() {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refresh(), 400);
      },
      async refresh() {
        const fields = this.payload();
        if (!fields.length) {
          this.errors = {};
          this.previewHtml = "";
          return;
        }
        const checked = await send("POST", API + "/compile", { fields: fields });
        if (!checked.ok) {
          this.errors = (await this.problemOf(checked)).errors;
          this.previewStale = true;
          return;
        }
        this.errors = {};
        await this.preview({ fields: fields });
      },
      async preview(body) {
        const response = await send("POST", "/workflow/forms/preview", body, "text/html");
        this.previewHtml = await response.text();
        this.previewStale = !response.ok;
      },
      async tryPreview() {
        const box = this.$refs.preview;
        const pairs = [];
        box.querySelectorAll("input[name], select[name], textarea[name]").forEach((el) => {
          if (el.disabled || el.closest("fieldset:disabled")) return;
          if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
          pairs.push([el.name, el.value]);
        });
        await this.preview({ fields: this.payload(), data: pairs, check: true });
      },

      // ------------------------------------------------ saving
      async save(publish) {
        if (this.busy) return;
        this.busy = true;
        this.say("info", this.t(publish ? "publishing" : "saving"));
        try {
          const saved = this.form.id ? await this.saveDraft() : await this.create();
          if (!saved) return;
          if (publish) {
            const response = await send("POST", API + "/" + this.form.id + "/publish");
            if (!response.ok) return this.refused(response);
            const version = await response.json();
            this.form.published_version = version.version;
            this.form.has_draft = false;
            this.say("success", this.t("published", { n: version.version }));
          } else {
            this.say("success", this.t("saved", { n: saved.version }));
          }
          this.dirty = false;
        } finally {
          this.busy = false;
        }
      },
      async create() {
        const body = {
          key: this.form.key.trim(), name: this.form.name.trim(),
          description: this.form.description.trim(), fields: this.payload(),
        };
        const response = await send("POST", API, body);
        if (!response.ok) return this.refused(response);
        const created = await response.json();
        this.form.id = created.id;
        history.replaceState(null, "", "/workflow/forms/" + created.id + "/design");
        return { version: created.latest_version };
      },
      async saveDraft() {
        const info = await send("PATCH", API + "/" + this.form.id,
          { name: this.form.name.trim(), description: this.form.description.trim() });
        if (!info.ok) return this.refused(info);
        const response = await send("PUT", API + "/" + this.form.id + "/draft", { fields: this.payload() });
        if (!response.ok) return this.refused(response);
        const draft = await response.json();
        this.form.latest_version = draft.version;
        this.form.has_draft = true;
        return draft;
      },
      async refused(response) {
        const problem = await this.problemOf(response);
        this.errors = problem.errors;
        this.say("danger", problem.detail || this.t("save_failed"));
        return null;
      },

      // ------------------------------------------------ import and export
      async exportJson() {
        const response = await send("POST", API + "/compile", { fields: this.payload() });
        if (!response.ok) return this.refused(response);
        const pair = await response.json();
        download((this.form.key || "form") + ".json", JSON.stringify(pair, null, 2));
      },
      async importJson(event) {
        const file = event.target.files && event.target.files[0];
        event.target.value = "";
        if (!file) return;
        let pair;
        try {
          pair = JSON.parse(await file.text());
        } catch (e) {
          return this.say("danger", this.t("not_json"));
        }
        if (!pair || typeof pair !== "object" || !pair.schema) {
          return this.say("danger", this.t("not_a_pair"));
        }
        const response = await send("POST", API + "/decompile",
          { schema: pair.schema, ui_schema: pair.ui_schema || {} });
        if (!response.ok) return this.refused(response);
        if (this.fields.length && !window.confirm(this.t("replace_fields"))) return;
        this.fields = (await response.json()).fields.map(editable);
        this.selected = this.fields.length ? this.fields[0]._uid : null;
        this.say("success", this.t("imported", { n: this.fields.length }));
      },
    };
  }

  function register() { window.Alpine.data("formDesigner", designer); }
  if (window.Alpine) register();
  else document.addEventListener("alpine:init", register);
})();
