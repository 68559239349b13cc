/* The form renderer's behaviour (templates/workflow/forms/_render.html): conditional fields,
   live computed fields and table sums, rows added and removed, the person and org pickers and
   attachments. The server recomputes and checks everything again (forms/validate.py); what is
   computed here is a preview. No eval: formulas are parsed and walked as the server does
   (forms/formula.py). The page's CSP allows no inline script, so this file is loaded by URL,
   before Alpine starts. */
(function () {
  "use strict";
  if (window.campusForms) return;

  // ------------------------------------------------------------ formulas

  function tokenize(text) {
    const tokens = [];
    const re = /\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))/gy;
    let m;
    while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
      if (m[1] !== undefined) tokens.push({ kind: "num", value: parseFloat(m[1]) });
      else if (m[2] !== undefined) tokens.push({ kind: "name", value: m[2] });
      else if (m[3] !== undefined && m[3].trim() !== "") tokens.push({ kind: "op", value: m[3] });
    }
    return tokens;
  }

  function parseFormula(text) {
    const tokens = tokenize(text || "");
    let pos = 0;
    const peek = () => tokens[pos];
    const isOp = (v) => peek() && peek().kind === "op" && peek().value === v;
    const expect = (v) => {
      if (!isOp(v)) throw new Error("expected " + v);
      pos++;
    };
    function expr() {
      let node = term();
      while (isOp("+") || isOp("-")) node = { op: tokens[pos++].value, a: node, b: term() };
      return node;
    }
    function term() {
      let node = unary();
      while (isOp("*") || isOp("/")) node = { op: tokens[pos++].value, a: node, b: unary() };
      return node;
    }
    function unary() {
      if (isOp("-")) { pos++; return { op: "neg", a: unary() }; }
      if (isOp("+")) { pos++; return unary(); }
      return primary();
    }
    function primary() {
      const t = tokens[pos++];
      if (!t) throw new Error("unexpected end");
      if (t.kind === "num") return { num: t.value };
      if (t.kind === "op" && t.value === "(") { const n = expr(); expect(")"); return n; }
      if (t.kind !== "name") throw new Error("unexpected " + t.value);
      if (isOp("(")) {
        pos++;
        const args = [];
        if (!isOp(")")) {
          args.push(argument(t.value));
          while (isOp(",")) { pos++; args.push(argument(t.value)); }
        }
        expect(")");
        return { call: t.value, args: args };
      }
      return { name: t.value };
    }
    function argument(fn) {
      if (fn === "sum") {
        const table = tokens[pos++]; expect(".");
        const column = tokens[pos++];
        return { table: table && table.value, column: column && column.value };
      }
      if (fn === "days") return { range: tokens[pos++].value };
      return expr();
    }
    const tree = expr();
    if (pos !== tokens.length) throw new Error("trailing input");
    return tree;
  }

  function toNumber(value) {
    if (value === null || value === undefined || value === "" || typeof value === "boolean") return 0;
    const n = Number(value);
    return Number.isFinite(n) ? n : 0;
  }

  function dayCount(span) {
    if (!span || !span.start || !span.end) return 0;
    const start = Date.parse(span.start + "T00:00:00Z");
    const end = Date.parse(span.end + "T00:00:00Z");
    if (Number.isNaN(start) || Number.isNaN(end) || end < start) return 0;
    return Math.round((end - start) / 86400000) + 1;
  }

  function roundTo(x, places) {
    const f = Math.pow(10, places || 0);
    return Math.sign(x) * Math.round(Math.abs(x) * f + 1e-9) / f;
  }

  function walk(node, data) {
    if ("num" in node) return node.num;
    if ("name" in node) return toNumber(data[node.name]);
    if ("call" in node) {
      const args = node.args;
      switch (node.call) {
        case "sum":
          return (data[args[0].table] || []).reduce((t, row) => t + toNumber(row && row[args[0].column]), 0);
        case "days": return dayCount(data[args[0].range]);
        case "round": return roundTo(walk(args[0], data), args[1] ? walk(args[1], data) : 0);
        case "min": return Math.min.apply(null, args.map((a) => walk(a, data)));
        case "max": return Math.max.apply(null, args.map((a) => walk(a, data)));
        case "abs": return Math.abs(walk(args[0], data));
        default: throw new Error("unknown function " + node.call);
      }
    }
    const a = walk(node.a, data);
    if (node.op === "neg") return -a;
    const b = walk(node.b, data);
    if (node.op === "+") return a + b;
    if (node.op === "-") return a - b;
    if (node.op === "*") return a * b;
    if (b === 0) throw new Error("division by zero");
    return a / b;
  }

  const parsed = new Map();
  function evaluate(formula, data) {
    try {
      if (!parsed.has(formula)) parsed.set(formula, parseFormula(formula));
      const value = walk(parsed.get(formula), data);
      return Number.isFinite(value) ? roundTo(value, 2) : null;
    } catch (e) {
      return null;
    }
  }

  // ------------------------------------------------------------ conditions

  function isEmpty(v) {
    return v === null || v === undefined || v === "" ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === "object" && !Array.isArray(v) && Object.keys(v).every((k) => isEmpty(v[k])));
  }
  function comparable(v) {
    if (typeof v === "number") return v;
    if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
    return v;
  }
  function same(a, b) { return comparable(a) === comparable(b); }
  function holds(cond, data) {
    if (!cond) return true;
    const value = data[cond.field];
    const wanted = cond.value;
    switch (cond.op || "eq") {
      case "filled": return !isEmpty(value);
      case "in": return Array.isArray(wanted) && wanted.some((w) => same(value, w));
      case "contains":
        if (Array.isArray(value)) return value.some((v) => same(v, wanted));
        return typeof value === "string" && value.indexOf(String(wanted)) >= 0;
      case "eq": return same(value, wanted);
      case "ne": return !same(value, wanted);
      default: {
        if (isEmpty(value)) return false;
        const a = comparable(value), b = comparable(wanted);
        if (typeof a !== typeof b) return false;
        return { gt: a > b, ge: a >= b, lt: a < b, le: a <= b }[cond.op] || false;
      }
    }
  }

  // ------------------------------------------------------------ the component

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  async function problemText(response, fallback) {
    try {
      const body = await response.json();
      return body.detail || body.title || fallback;
    } catch (e) {
      return fallback;
    }
  }

  let rowSeq = 0;
  function newRow(columns) {
    const row = { _row: ++rowSeq };
    columns.forEach((c) => { row[c.key] = ""; });
    return row;
  }

  function initialValue(field, value, labels) {
    switch (field.widget) {
      case "daterange":
        return { start: (value && value.start) || "", end: (value && value.end) || "" };
      case "multiselect":
        return Array.isArray(value) ? value.map(String) : [];
      case "attachments":
        return (Array.isArray(value) ? value : []).map((id) => ({
          id: String(id), name: labels[field.key + "." + id] || String(id),
        }));
      case "table":
        return (Array.isArray(value) ? value : []).map((row) => {
          const fresh = newRow(field.columns);
          field.columns.forEach((c) => {
            if (row && row[c.key] !== undefined && row[c.key] !== null) fresh[c.key] = String(row[c.key]);
          });
          return fresh;
        });
      default:
        return value === undefined || value === null ? "" : String(value);
    }
  }

  function component() {
    return {
      fields: [],
      values: {},
      labels: {},
      errors: {},
      pickers: {},
      uploads: {},
      orgUnits: null,
      messages: {},
      fileUrl: "/api/v1/files/",
      init() {
        const config = JSON.parse(this.$el.dataset.formConfig || "{}");
        this.messages = config.messages || {};
        this.fileUrl = config.file_url || "/api/v1/files/";
        this.fields = config.fields || [];
        this.labels = config.labels || {};
        this.errors = config.errors || {};
        const values = {};
        const pickers = {};
        this.fields.forEach((f) => {
          values[f.key] = initialValue(f, (config.values || {})[f.key], this.labels);
          if (f.widget === "person" || f.widget === "org") {
            pickers[f.key] = { q: "", results: [], open: false, busy: false, message: "" };
          }
          if (f.widget === "table" && values[f.key].length === 0) {
            const rows = Math.max(1, toNumber(f.min));
            for (let i = 0; i < rows; i++) values[f.key].push(newRow(f.columns));
          }
        });
        this.values = values;
        this.pickers = pickers;
      },
      // The data as the server will see it: hidden fields dropped, computed fields computed,
      // field by field in order.
      get clean() {
        const data = {};
        this.fields.forEach((f) => {
          if (!holds(f.visible_if, data)) return;
          const value = f.widget === "computed" ? evaluate(f.formula, data) : this.values[f.key];
          if (!isEmpty(value)) data[f.key] = value;
        });
        return data;
      },
      visible(key) {
        const field = this.fields.find((f) => f.key === key);
        if (!field || !field.visible_if) return true;
        const data = this.clean;
        const before = {};
        for (const f of this.fields) {
          if (f.key === key) break;
          if (f.key in data) before[f.key] = data[f.key];
        }
        return holds(field.visible_if, before);
      },
      computed(key) {
        const value = this.clean[key];
        return value === undefined ? null : value;
      },
      sumOf(key, column) {
        const total = (this.values[key] || []).reduce((t, row) => t + toNumber(row[column]), 0);
        return roundTo(total, 2);
      },
      days(key) { return dayCount(this.values[key]); },
      fmt(value, money) {
        if (value === null || value === undefined || value === "") return "—";
        const n = Number(value);
        if (!Number.isFinite(n)) return "—";
        const text = money || !Number.isInteger(n)
          ? n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
          : n.toLocaleString("zh-CN");
        return money ? "¥ " + text : text;
      },
      err(name) { return this.errors[name] || ""; },
      say(key) { return this.messages[key] || key; },
      cellName(key, i, column) { return "data." + key + "[" + i + "]." + column; },
      addRow(key) {
        const field = this.fields.find((f) => f.key === key);
        this.values[key].push(newRow(field.columns));
      },
      removeRow(key, i) { this.values[key].splice(i, 1); },

      // ---------------------------------------------------- people
      async searchPeople(key) {
        const picker = this.pickers[key];
        const q = picker.q.trim();
        picker.message = "";
        if (!q) { picker.results = []; picker.open = false; return; }
        picker.busy = true;
        try {
          const response = await fetch("/api/v1/workflow/forms/pickers/people?q=" + encodeURIComponent(q),
            { headers: { Accept: "application/json" }, credentials: "same-origin" });
          if (!response.ok) {
            picker.results = [];
            picker.message = await problemText(response, this.say("search_failed"));
          } else {
            picker.results = await response.json();
            if (picker.results.length === 0) picker.message = this.say("nothing_found");
          }
          picker.open = true;
        } finally {
          picker.busy = false;
        }
      },
      choosePerson(key, person) {
        this.values[key] = String(person.id);
        this.labels[key] = person.number ? person.name + "（" + person.number + "）" : person.name;
        this.pickers[key].q = "";
        this.pickers[key].open = false;
      },
      clearChoice(key) {
        this.values[key] = "";
        delete this.labels[key];
      },

      // ---------------------------------------------------- org units
      async loadOrgUnits(key) {
        const picker = this.pickers[key];
        picker.open = true;
        if (this.orgUnits !== null) return;
        picker.busy = true;
        try {
          const response = await fetch("/api/v1/workflow/forms/pickers/org-units",
            { headers: { Accept: "application/json" }, credentials: "same-origin" });
          this.orgUnits = response.ok ? await response.json() : [];
          if (!response.ok) picker.message = await problemText(response, this.say("load_failed"));
        } finally {
          picker.busy = false;
        }
      },
      orgMatches(key) {
        const q = this.pickers[key].q.trim();
        const units = this.orgUnits || [];
        return (q ? units.filter((u) => u.name.indexOf(q) >= 0) : units).slice(0, 50);
      },
      chooseOrg(key, unit) {
        this.values[key] = String(unit.id);
        this.labels[key] = unit.name;
        this.pickers[key].q = "";
        this.pickers[key].open = false;
      },

      // ---------------------------------------------------- attachments
      async upload(key, event) {
        const input = event.target;
        const state = (this.uploads[key] = { busy: true, message: "" });
        try {
          for (const file of Array.from(input.files || [])) {
            const body = new FormData();
            body.append("file", file);
            const response = await fetch("/api/v1/files", {
              method: "POST", body: body, credentials: "same-origin",
              headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
            });
            if (!response.ok) {
              state.message = file.name + ": " + await problemText(response, this.say("upload_failed"));
              continue;
            }
            const saved = await response.json();
            this.values[key].push({ id: String(saved.id), name: saved.name || file.name, size: saved.size });
          }
        } finally {
          state.busy = false;
          input.value = "";
        }
      },
      removeFile(key, i) { this.values[key].splice(i, 1); },
      size(bytes) {
        if (!bytes && bytes !== 0) return "";
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
        return (bytes / 1048576).toFixed(1) + " MB";
      },
    };
  }

  window.campusForms = { evaluate: evaluate, holds: holds, parseFormula: parseFormula, dayCount: dayCount };

  function register() { window.Alpine.data("campusForm", component); }
  if (window.Alpine) register();
  else document.addEventListener("alpine:init", register);
})();
