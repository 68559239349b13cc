/* The services management (templates/workflow/designer/services.html, service_form.html): the
   publish toggle of the list and the create/edit form, both sent to the JSON API
   (POST /api/v1/workflow/services, PATCH /api/v1/workflow/services/{key}); the server's
   problem+json errors are shown next to their fields. Loaded by URL before Alpine starts. */
(function () {
  "use strict";
  if (window.campusServices) return;
  window.campusServices = true;

  const API = "/api/v1/workflow/services";
  const OPTIONAL = ["form_key", "process_key", "link", "department_id"];
  const NUMBERS = ["expected_days", "sort_order", "department_id"];

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
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    });
  }

  async function problemOf(response) {
    try {
      return await response.json();
    } catch (e) {
      return { detail: response.status + " " + response.statusText };
    }
  }

  function readData(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent || "{}") : {};
  }

  function serviceForm(dataId) {
    const data = readData(dataId);
    const values = data.values || {};
    for (const key of OPTIONAL) if (values[key] === null || values[key] === undefined) values[key] = "";
    return {
      v: values,
      isNew: !data.key,
      errors: {},
      topError: "",
      saving: false,

      body() {
        const out = {};
        for (const [key, value] of Object.entries(this.v)) {
          if (!data.fields.includes(key)) continue;
          let clean = typeof value === "string" ? value.trim() : value;
          if (OPTIONAL.includes(key) && clean === "") clean = null;
          if (NUMBERS.includes(key) && clean !== null && clean !== "") clean = Number(clean);
          out[key] = clean;
        }
        if (!this.isNew) delete out.key;
        return out;
      },

      async save() {
        if (this.saving) return;
        this.saving = true;
        this.errors = {};
        this.topError = "";
        try {
          const response = this.isNew
            ? await send("POST", API, this.body())
            : await send("PATCH", API + "/" + encodeURIComponent(data.key), this.body());
          if (!response.ok) {
            const problem = await problemOf(response);
            for (const error of problem.errors || []) {
              const field = String(error.field || "").split(".")[0];
              if (data.fields.includes(field)) this.errors[field] = error.reason;
              else this.topError = error.reason;
            }
            if (!problem.errors || !problem.errors.length) this.topError = problem.detail || problem.title;
            return;
          }
          window.location.assign("/workflow/services?saved=" + encodeURIComponent(this.v.key));
        } catch (e) {
          this.topError = data.network;
        } finally {
          this.saving = false;
        }
      },
    };
  }

  // The publish switch of one row of the list.
  function publishToggle(key, published) {
    return {
      published: published,
      busy: false,
      failed: "",

      async toggle(event) {
        const box = event && event.target;
        if (this.busy) return;
        this.busy = true;
        this.failed = "";
        const wanted = !this.published;
        try {
          const response = await send("PATCH", API + "/" + encodeURIComponent(key), { published: wanted });
          if (response.ok) {
            this.published = (await response.json()).published;
          } else {
            const problem = await problemOf(response);
            this.failed = (problem.errors && problem.errors[0] && problem.errors[0].reason) || problem.detail || problem.title;
          }
        } catch (e) {
          this.failed = "!";
        } finally {
          this.busy = false;
          if (box) box.checked = this.published; // a refused change leaves the switch as it was
        }
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("serviceForm", serviceForm);
    window.Alpine.data("publishToggle", publishToggle);
  });
})();
