// The community's page script (CSP allows no inline script). Loaded without `defer` so that
// it registers its Alpine components before Alpine starts.
(function () {
  "use strict";

  document.addEventListener("alpine:init", function () {
    // The post editor: which board is chosen decides the extra fields and whether anonymous
    // posting is offered. `boards` maps a board id to {kind, anonymous}.
    window.Alpine.data("cmtyEditor", function (boards, initial) {
      var first = Object.keys(boards)[0];
      return {
        boards: boards,
        board: initial || (first ? Number(first) : null),
        get kind() {
          var found = this.boards[this.board];
          return found ? found.kind : "";
        },
        get anonymousAllowed() {
          var found = this.boards[this.board];
          return Boolean(found && found.anonymous);
        },
      };
    });

    // Pictures: each chosen file is uploaded to the file service (the shared uploader of
    // /static/campus.js); the form keeps the ids.
    window.Alpine.data("cmtyImages", function (initial, max) {
      return {
        files: (initial || []).map(function (id) {
          return { id: id };
        }),
        max: max,
        busy: false,
        error: "",
        upload: function (event) {
          var input = event.target;
          var chosen = Array.prototype.slice.call(input.files || []);
          var self = this;
          var room = self.max - self.files.length;
          if (chosen.length > room) {
            self.error = input.dataset.tooMany || "最多 " + self.max + " 张图片";
            chosen = chosen.slice(0, room);
          } else {
            self.error = "";
          }
          if (!chosen.length) return;
          self.busy = true;
          var uploads = chosen.map(function (file) {
            return window.campus.uploadFile(file).then(function (data) {
              self.files.push({ id: data.id });
            });
          });
          Promise.all(uploads)
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
  });
})();
