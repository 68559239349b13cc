/* The approval-chain designer (templates/workflow/designer/process_design.html): a tree of
   approve / cc / branch nodes edited in the browser and saved through the JSON API as a new
   version of the process (POST /api/v1/workflow/processes[/{key}/versions]). The server checks
   everything again; its problem+json errors are shown next to the nodes they name. Also the
   page's version list (view, export, publish, open in the designer) and BPMN import.
   Loaded by URL before Alpine starts: the CSP allows no inline script. */
(function () {
  "use strict";
  if (window.campusChainDesigner) return;
  window.campusChainDesigner = true;

  const API = "/api/v1/workflow";
  const TAGS = ["approve", "cc", "branch"];
  let uid = 0;
  const nextUid = () => ++uid;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  async function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function problemOf(response) {
    try {
      return await response.json();
    } catch (e) {
      return { detail: response.status + " " + response.statusText };
    }
  }

  function format(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }

  // ------------------------------------------------------------ assignee rules

  // The editor keeps every kind's fields on one object, so switching kinds loses nothing.
  function ruleFrom(raw) {
    raw = raw || {};
    return {
      kind: raw.kind || "position",
      ids: Array.isArray(raw.ids) ? raw.ids.slice() : [],
      role: raw.role || "",
      position: raw.position || "counselor",
      field: raw.field || "",
      org_unit_id: raw.org_unit_id ? String(raw.org_unit_id) : "",
      of: Array.isArray(raw.of) ? raw.of.map(ruleFrom) : [],
    };
  }

  function cleanRule(rule) {
    switch (rule.kind) {
      case "person":
        return { kind: "person", ids: rule.ids.slice() };
      case "role":
        return { kind: "role", role: String(rule.role || "").trim() };
      case "position":
        return { kind: "position", position: rule.position, relative: true };
      case "field":
        return { kind: "field", field: String(rule.field || "").trim() };
      case "org":
        return {
          kind: "org",
          org_unit_id: rule.org_unit_id ? Number(rule.org_unit_id) : null,
          position: rule.position,
        };
      case "union":
        return { kind: "union", of: rule.of.map(cleanRule) };
      default:
        return { kind: "applicant" };
    }
  }

  // ------------------------------------------------------------ nodes

  function valueText(value) {
    if (Array.isArray(value)) return value.join(", ");
    return value === null || value === undefined ? "" : String(value);
  }

  function typedValue(op, text) {
    const one = (s) => {
      const t = String(s).trim();
      if (t !== "" && Number.isFinite(Number(t))) return Number(t);
      if (t === "true" || t === "false") return t === "true";
      return t;
    };
    if (op === "in") {
      return String(text || "")
        .split(/[,，、]/)
        .map((s) => s.trim())
        .filter(Boolean)
        .map(one);
    }
    return one(text === undefined ? "" : text);
  }

  function stepFrom(raw) {
    return {
      _uid: nextUid(),
      type: raw.type === "cc" ? "cc" : "approve",
      name: raw.name || "",
      assignee: ruleFrom(raw.assignee),
      mode: raw.mode || "any",
      percent: raw.percent || 50,
      timeout_hours: raw.timeout_hours ? String(raw.timeout_hours) : "",
      timeout_action: raw.timeout_action || "remind",
      escalate_to: ruleFrom(raw.escalate_to || { kind: "position", position: "head" }),
    };
  }

  function branchFrom(raw) {
    const condition = raw.condition || { field: "", op: "gt", value: "" };
    return {
      _uid: nextUid(),
      name: raw.name || "",
      default: !!raw.default,
      field: condition.field || "",
      op: condition.op || "eq",
      value: valueText(condition.value),
      nodes: (raw.nodes || []).map(nodeFrom),
    };
  }

  function nodeFrom(raw) {
    if (raw.type === "branch") {
      return { _uid: nextUid(), type: "branch", branches: (raw.branches || []).map(branchFrom) };
    }
    return stepFrom(raw);
  }

  function cleanNode(node) {
    if (node.type === "branch") {
      return {
        type: "branch",
        branches: node.branches.map((b) => {
          const out = { name: String(b.name || "").trim(), default: !!b.default, nodes: b.nodes.map(cleanNode) };
          if (!b.default) {
            out.condition = { field: String(b.field || "").trim(), op: b.op, value: typedValue(b.op, b.value) };
          }
          return out;
        }),
      };
    }
    const out = { type: node.type, name: String(node.name || "").trim(), assignee: cleanRule(node.assignee) };
    if (node.type === "cc") return out;
    out.mode = node.mode;
    out.percent = Number(node.percent) || 50;
    if (String(node.timeout_hours).trim() !== "") {
      out.timeout_hours = Number(node.timeout_hours);
      out.timeout_action = node.timeout_action;
      if (node.timeout_action === "escalate") out.escalate_to = cleanRule(node.escalate_to);
    }
    return out;
  }

  // "chain.nodes.1.branch.branches.0.nodes.0.approve.assignee.person.ids" names the node at
  // path "1.b0.0" and, inside it, "assignee.person.ids".
  function errorPlace(field) {
    const parts = String(field || "").split(".");
    if (parts[0] !== "chain") return null;
    const path = [];
    let i = 1;
    while (i < parts.length) {
      if (parts[i] === "nodes" && /^\d+$/.test(parts[i + 1] || "")) {
        path.push(parts[i + 1]);
        i += 2;
        if (TAGS.indexOf(parts[i]) >= 0) i++;
      } else if (parts[i] === "branches" && /^\d+$/.test(parts[i + 1] || "")) {
        path.push("b" + parts[i + 1]);
        i += 2;
      } else {
        break;
      }
    }
    return { path: path.join("."), rest: parts.slice(i) };
  }

  // ------------------------------------------------------------ the component

  function readData(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent || "{}") : {};
  }

  function chainDesigner(dataId) {
    const data = readData(dataId);
    const labels = data.labels || { text: {} };
    return {
      labels: labels,
      text: labels.text || {},
      process: data.process,
      meta: { key: "", name: "", description: "" },
      nodes: [],
      selected: null, // a step or a branch (case) object
      selectedType: "",
      errors: {}, // node path -> messages
      fieldErrors: {}, // key / name / description -> message
      topErrors: [],
      message: "",
      saving: false,
      dirty: false,
      publishOnSave: false,
      previewVersion: null,
      importErrors: [],
      importing: false,
      personNames: data.people || {},
      orgUnits: data.org_units || [],
      roles: [],
      rolesLoaded: false,
      chainVersion: data.chain_version,

      init() {
        const start = data.chain || { nodes: [this.newStepRaw("approve")] };
        this.nodes = (start.nodes || []).map(nodeFrom);
        if (this.process && this.process.versions.length) {
          this.previewVersion = this.process.published_version || this.process.versions[0].version;
        }
        this.loadRoles();
        // Edits mark the page dirty through the root's @input/@change and the tree operations.
        window.addEventListener("beforeunload", (event) => {
          if (this.dirty && !this.saving) {
            event.preventDefault();
            event.returnValue = this.text.unsaved;
          }
        });
      },

      get isNew() {
        return !this.process;
      },

      newStepRaw(type) {
        return {
          type: type,
          name: type === "cc" ? this.text.new_cc : this.text.new_approve,
          assignee: { kind: "position", position: "counselor", relative: true },
        };
      },

      // -------------------------------------------------------- the tree as rows

      rows() {
        const out = [];
        const walk = (list, path, depth) => {
          list.forEach((node, index) => {
            const here = path.concat([String(index)]);
            const key = here.join(".");
            if (node.type === "branch") {
              out.push({ kind: "branch", key: "g" + node._uid, node: node, list: list, index: index, path: key, depth: depth });
              node.branches.forEach((branch, b) => {
                const branchPath = here.concat(["b" + b]);
                out.push({ kind: "case", key: "c" + branch._uid, node: node, branch: branch, index: b, path: branchPath.join("."), depth: depth + 1 });
                walk(branch.nodes, branchPath, depth + 2);
                out.push({ kind: "add", key: "a" + branch._uid, list: branch.nodes, depth: depth + 2 });
              });
            } else {
              out.push({ kind: "step", key: "s" + node._uid, node: node, list: list, index: index, path: key, depth: depth });
            }
          });
        };
        walk(this.nodes, [], 0);
        out.push({ kind: "add", key: "a-root", list: this.nodes, depth: 0 });
        return out;
      },

      indent(row) {
        return "margin-left: " + Math.min(row.depth, 8) * 1.1 + "rem";
      },

      // -------------------------------------------------------- editing

      add(list, type) {
        this.dirty = true;
        const node = type === "branch" ? this.newBranchNode() : nodeFrom(this.newStepRaw(type));
        list.push(node);
        if (node.type === "branch") this.select(node.branches[0], "case");
        else this.select(node, "step");
      },

      newBranchNode() {
        return nodeFrom({
          type: "branch",
          branches: [
            { name: format(this.text.condition, { n: 1 }), condition: { field: "", op: "gt", value: "" } },
            { name: this.text.otherwise, default: true },
          ],
        });
      },

      addCase(node) {
        this.dirty = true;
        const n = node.branches.length;
        node.branches.splice(n - (node.branches[n - 1].default ? 1 : 0), 0,
          branchFrom({ name: format(this.text.condition, { n: n }), condition: { field: "", op: "eq", value: "" } }));
      },

      move(list, index, delta) {
        this.dirty = true;
        const to = index + delta;
        if (to < 0 || to >= list.length) return;
        const [item] = list.splice(index, 1);
        list.splice(to, 0, item);
      },

      remove(list, index) {
        this.dirty = true;
        const [gone] = list.splice(index, 1);
        if (this.selected && this.contains(gone, this.selected)) this.select(null, "");
      },

      removeCase(node, index) {
        if (node.branches.length <= 2) return;
        const wasDefault = node.branches[index].default;
        this.remove(node.branches, index);
        if (wasDefault) node.branches[node.branches.length - 1].default = true;
      },

      makeDefault(node, branch) {
        this.dirty = true;
        node.branches.forEach((b) => {
          b.default = b === branch;
        });
      },

      contains(root, target) {
        if (root === target) return true;
        const children = root.type === "branch" ? root.branches : root.nodes || [];
        return children.some((child) => this.contains(child, target));
      },

      select(item, type) {
        this.selected = item;
        this.selectedType = item ? type : "";
        // On narrow screens the settings are below the chain: bring them into view.
        if (item && window.innerWidth < 1200) {
          this.$nextTick(() => {
            if (this.$refs.editor) this.$refs.editor.scrollIntoView({ behavior: "smooth", block: "start" });
          });
        }
      },

      pathOf(item) {
        const row = this.rows().find((r) => r.node === item && r.kind === "step" || r.branch === item);
        return row ? row.path : "";
      },

      branchNodeOf(branch) {
        const row = this.rows().find((r) => r.branch === branch);
        return row ? row.node : null;
      },

      isSelected(item) {
        return this.selected === item;
      },

      // -------------------------------------------------------- assignees

      async loadRoles() {
        try {
          const response = await fetch("/api/v1/access/roles", { credentials: "same-origin", headers: { Accept: "application/json" } });
          if (response.ok) this.roles = (await response.json()).map((r) => ({ code: r.code, name: r.name }));
        } catch (e) {
          this.roles = [];
        }
        this.rolesLoaded = true;
      },

      addUnionRule(rule) {
        rule.of.push(ruleFrom({ kind: "position", position: "head" }));
      },

      personName(id) {
        return this.personNames[String(id)] || "#" + id;
      },

      unitName(id) {
        const unit = this.orgUnits.find((u) => String(u.id) === String(id));
        return unit ? unit.name : this.text.nobody;
      },

      unitLabel(unit) {
        return "\u3000".repeat(Math.min(unit.depth, 6)) + unit.name;
      },

      roleName(code) {
        const role = this.roles.find((r) => r.code === code);
        return role ? role.name : code;
      },

      ruleSummary(rule) {
        const L = this.labels;
        switch (rule.kind) {
          case "person":
            return rule.ids.length ? rule.ids.slice(0, 3).map((id) => this.personName(id)).join("、") + (rule.ids.length > 3 ? "…" : "") : this.text.nobody;
          case "role":
            return rule.role ? L.kinds.role + "：" + this.roleName(rule.role) : this.text.nobody;
          case "position":
            return format(this.text.applicants, { position: L.positions[rule.position] || rule.position });
          case "field":
            return format(this.text.field, { field: rule.field || "?" });
          case "org":
            return this.unitName(rule.org_unit_id) + " · " + (L.positions[rule.position] || rule.position);
          case "union":
            return rule.of.map((r) => this.ruleSummary(r)).join(" + ") || this.text.nobody;
          default:
            return this.text.applicant;
        }
      },

      stepSummary(node) {
        const who = this.ruleSummary(node.assignee);
        if (node.type === "cc") return who;
        let mode = this.labels.modes[node.mode] || node.mode;
        if (node.mode === "percent") mode += " " + node.percent + "%";
        return who + " · " + mode;
      },

      caseSummary(branch) {
        if (branch.default) return "";
        const op = this.labels.operators[branch.op] || branch.op;
        return (branch.field || "?") + " " + op + " " + (branch.value === "" ? "?" : branch.value);
      },

      // -------------------------------------------------------- errors

      errorsAt(path) {
        return this.errors[path] || [];
      },

      showProblem(problem) {
        const names = this.text.field_names || {};
        this.errors = {};
        this.fieldErrors = {};
        this.topErrors = [];
        const list = problem.errors && problem.errors.length ? problem.errors : [{ field: "", reason: problem.detail || problem.title }];
        for (const error of list) {
          if (["key", "name", "description"].indexOf(error.field) >= 0) {
            this.fieldErrors[error.field] = error.reason;
            continue;
          }
          const place = errorPlace(error.field);
          if (!place || !place.path) {
            this.topErrors.push(error.reason);
            continue;
          }
          const label = place.rest.length ? this.placeLabel(place.rest) + "：" : "";
          (this.errors[place.path] = this.errors[place.path] || []).push(label + error.reason);
        }
      },

      // ["assignee", "union", "of", "1", "role", "role"] -> "审批人（规则 2）"
      placeLabel(rest) {
        const names = this.text.field_names || {};
        let label = names[rest[0]] || rest[0];
        const at = rest.indexOf("of");
        if (at >= 0 && /^\d+$/.test(rest[at + 1] || "")) {
          label += format(this.text.rule_n, { n: Number(rest[at + 1]) + 1 });
        }
        return label;
      },

      clearErrors() {
        this.errors = {};
        this.fieldErrors = {};
        this.topErrors = [];
        this.message = "";
      },

      // -------------------------------------------------------- saving

      chain() {
        return { nodes: this.nodes.map(cleanNode) };
      },

      async save() {
        if (this.saving) return;
        this.clearErrors();
        this.saving = true;
        try {
          const response = this.isNew
            ? await send("POST", API + "/processes", {
                key: this.meta.key.trim(),
                name: this.meta.name.trim(),
                description: this.meta.description.trim(),
                chain: this.chain(),
              })
            : await send("POST", API + "/processes/" + encodeURIComponent(this.process.key) + "/versions", {
                chain: this.chain(),
                publish: this.publishOnSave,
              });
          if (!response.ok) {
            this.showProblem(await problemOf(response));
            if (!this.topErrors.length) this.topErrors.push(this.text.failed);
            return;
          }
          const out = await response.json();
          this.dirty = false;
          if (this.isNew) {
            window.location.assign("/workflow/processes/" + encodeURIComponent(out.key) + "/design?created=1");
            return;
          }
          this.updated(out, this.text.saved);
          this.chainVersion = out.versions[0].version;
        } catch (e) {
          this.topErrors.push(this.text.network);
        } finally {
          this.saving = false;
        }
      },

      updated(out, message) {
        this.process = out;
        const newest = out.versions[0].version;
        this.message = format(message, { n: newest });
        this.view(newest);
      },

      // -------------------------------------------------------- versions

      exportUrl(number) {
        return API + "/processes/" + encodeURIComponent(this.process.key) + "/versions/" + number + "/bpmn";
      },

      view(number) {
        this.previewVersion = number;
        this.$nextTick(() => {
          const box = this.$refs.preview && this.$refs.preview.querySelector("[data-campus-diagram]");
          if (!box || !window.campusDiagram) return;
          box.dataset.xmlUrl = this.exportUrl(number);
          window.campusDiagram.render(box);
          if (box.scrollIntoView && window.innerWidth < 992) box.scrollIntoView({ behavior: "smooth", block: "center" });
        });
      },

      isCurrent(version) {
        return this.process && this.process.published_version === version.version;
      },

      openInDesigner(version) {
        if (!version.chain) return;
        this.nodes = (version.chain.nodes || []).map(nodeFrom);
        this.select(null, "");
        this.clearErrors();
        this.chainVersion = version.version;
        this.message = format(this.text.loaded, { n: version.version });
        this.dirty = false;
      },

      async publish(version) {
        this.clearErrors();
        try {
          const response = await send("POST", API + "/processes/" + encodeURIComponent(this.process.key) + "/versions/" + version.version + "/publish");
          if (!response.ok) {
            this.showProblem(await problemOf(response));
            return;
          }
          this.process = await response.json();
          this.message = format(this.text.published, { n: version.version });
        } catch (e) {
          this.topErrors.push(this.text.network);
        }
      },

      async importBpmn(event) {
        const input = event.target;
        const file = input.files && input.files[0];
        if (!file) return;
        this.importErrors = [];
        this.message = "";
        this.importing = true;
        try {
          const xml = await file.text();
          const response = this.isNew
            ? await send("POST", API + "/processes", {
                key: this.meta.key.trim(),
                name: this.meta.name.trim(),
                description: this.meta.description.trim(),
                bpmn: xml,
              })
            : await send("POST", API + "/processes/" + encodeURIComponent(this.process.key) + "/versions", {
                bpmn: xml,
                publish: this.publishOnSave,
              });
          if (!response.ok) {
            const problem = await problemOf(response);
            for (const error of problem.errors || []) {
              if (["key", "name", "description"].indexOf(error.field) >= 0) this.fieldErrors[error.field] = error.reason;
              else this.importErrors.push(error.reason);
            }
            if (!this.importErrors.length && !Object.keys(this.fieldErrors).length) this.importErrors.push(problem.detail || problem.title);
            return;
          }
          const out = await response.json();
          if (this.isNew) {
            this.dirty = false;
            window.location.assign("/workflow/processes/" + encodeURIComponent(out.key) + "/design?created=1");
            return;
          }
          this.updated(out, this.text.imported);
        } catch (e) {
          this.importErrors.push(this.text.network);
        } finally {
          this.importing = false;
          input.value = "";
        }
      },

      when(iso) {
        return String(iso || "").replace("T", " ").slice(0, 16);
      },
    };
  }

  // A person picker inside an assignee rule: searches the user center as one types.
  function personPicker() {
    return {
      q: "",
      results: [],
      searched: false,
      searchError: "",
      timer: null,

      search() {
        clearTimeout(this.timer);
        const q = this.q.trim();
        if (!q) {
          this.results = [];
          this.searched = false;
          return;
        }
        this.timer = setTimeout(() => this.run(q), 250);
      },

      async run(q) {
        this.searchError = "";
        try {
          let response = await fetch("/api/v1/users/people/search?limit=10&q=" + encodeURIComponent(q), {
            credentials: "same-origin",
            headers: { Accept: "application/json" },
          });
          if (response.status === 403) {
            // Without the user center's permission, the form pickers find teachers and staff.
            response = await fetch("/api/v1/workflow/forms/pickers/people?q=" + encodeURIComponent(q), {
              credentials: "same-origin",
              headers: { Accept: "application/json" },
            });
          }
          if (!response.ok) {
            this.results = [];
            this.searchError = this.text.no_search;
            return;
          }
          this.results = await response.json();
          this.searched = true;
        } catch (e) {
          this.searchError = this.text.network;
        }
      },

      choose(rule, person) {
        this.personNames[String(person.id)] = person.name;
        if (rule.ids.indexOf(person.id) < 0) rule.ids.push(person.id);
        this.q = "";
        this.results = [];
        this.searched = false;
      },

      drop(rule, id) {
        const at = rule.ids.indexOf(id);
        if (at >= 0) rule.ids.splice(at, 1);
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("chainDesigner", chainDesigner);
    window.Alpine.data("personPicker", personPicker);
  });
})();
