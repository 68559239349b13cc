/* The chat pages' behaviour (Alpine.js components; CSP allows no inline script).
 *
 * imChat: one conversation, live over the chat WebSocket. On every (re)connection it sends
 *   `sync` with the last seq it holds, so it receives exactly what it missed; messages are kept
 *   in seq order and each seq once. A message being sent stays "pending" with its client id until
 *   the server's ack; after a reconnect it is sent again with the same id (stored once).
 * imList: the chat list; reloads its rows (server-rendered) when a frame says something changed.
 */
(function () {
  "use strict";

  var EMOJI = ["😀", "😂", "😊", "😍", "🥰", "😎", "🤔", "😅", "😭", "😡", "👍", "👏", "🙏", "💪",
    "🎉", "❤️", "🔥", "✅", "❌", "☕", "📚", "🏃", "🌙", "🍚", "🎂", "💯", "🤝", "👌"];
  var SOCKET = "/api/v1/messaging/im/ws";
  var TYPING_EVERY = 3000;
  var TYPING_SHOWN = 4000;

  function cookie(name) {
    var found = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return found ? decodeURIComponent(found[1]) : "";
  }

  function clientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : {};
  }

  function texts() {
    var out = {};
    var tpl = document.getElementById("im-i18n");
    if (!tpl) return out;
    tpl.content.querySelectorAll("[data-key]").forEach(function (el) { out[el.dataset.key] = el.textContent; });
    return out;
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_m, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    var now = new Date();
    var hm = ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    if (d.toDateString() === now.toDateString()) return hm;
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + hm;
  }

  function size(bytes) {
    if (!bytes) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  async function problemText(response) {
    try {
      var body = await response.json();
      if (body.errors && body.errors.length) return body.errors.map(function (e) { return e.reason; }).join("；");
      return body.detail || body.title || String(response.status);
    } catch (e) {
      return String(response.status);
    }
  }

  /* A WebSocket that reconnects (1 s, doubling to 30 s) until closed, or until the server says
   * the session is gone (4401). onOpen runs after every (re)connection. */
  function openSocket(onFrame, onOpen, onState) {
    var ws = null;
    var delay = 1000;
    var stopped = false;
    var pinger = null;

    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      ws = new WebSocket(scheme + location.host + SOCKET);
      onState("connecting");
      ws.onopen = function () {
        delay = 1000;
        onState("open");
        onOpen();
        pinger = setInterval(function () { send({ type: "ping" }); }, 25000);
      };
      ws.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        onFrame(frame);
      };
      ws.onclose = function (event) {
        clearInterval(pinger);
        if (event.code === 4401) { stopped = true; onState("signed-out"); return; }
        onState("closed");
        if (stopped) return;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }

    function send(frame) {
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify(frame));
        return true;
      }
      return false;
    }

    connect();
    window.addEventListener("online", function () {
      if (!stopped && ws && ws.readyState === WebSocket.CLOSED) { delay = 1000; connect(); }
    });
    return { send: send, close: function () { stopped = true; if (ws) ws.close(); } };
  }

  function imChat() {
    var cfg = readJson("im-chat-data");
    var t = texts();
    return {
      conv: cfg.conversation,
      me: cfg.me,
      members: {},
      memberList: cfg.members || [],
      memberTotal: cfg.member_total || 0,
      messages: [],
      bySeq: {},
      pending: [],
      lastSeq: 0,
      myRead: cfg.conversation.read_seq || 0,
      hasOlder: !!cfg.has_older,
      loadingOlder: false,
      text: "",
      mentions: [],
      mentionAll: false,
      typingText: "",
      typingTimer: null,
      lastTypingSent: 0,
      state: "connecting",
      peerOnline: false,
      emojis: EMOJI,
      showEmoji: false,
      showMentions: false,
      error: "",
      now: Date.now(),
      socket: null,
      readTimer: null,

      init: function () {
        var self = this;
        this.memberList.forEach(function (m) { self.members[m.person_id] = m; });
        if (this.conv.peer_id && this.members[this.conv.peer_id]) this.peerOnline = this.members[this.conv.peer_id].online;
        (cfg.history || []).forEach(function (m) { self.add(m); });
        this.socket = openSocket(
          function (frame) { self.onFrame(frame); },
          function () { self.onOpen(); },
          function (state) {
            self.state = state;
            if (state === "signed-out") self.error = t.signed_out;
          }
        );
        this.$nextTick(function () { self.scrollToAnchorOrBottom(); self.markRead(); });
        document.addEventListener("visibilitychange", function () { self.markRead(); });
        setInterval(function () { self.now = Date.now(); }, 10000);
      },

      onOpen: function () {
        var since = {};
        since[this.conv.id] = this.lastSeq;
        this.socket.send({ type: "sync", since: since, conversations: [this.conv.id] });
        var self = this;
        this.pending.forEach(function (p) { if (p.status === "sending") self.socket.send(p.frame); });
      },

      /* Keep messages in seq order, each once; a recall marker blanks its target. */
      add: function (m) {
        if (m.conversation_id !== this.conv.id || this.bySeq[m.seq]) return false;
        this.bySeq[m.seq] = true;
        while (this.bySeq[this.lastSeq + 1]) this.lastSeq += 1;
        if (m.seq > this.lastSeq && this.lastSeq === 0) this.lastSeq = m.seq;
        if (m.kind === "recall") {
          var target = this.messages.find(function (x) { return x.seq === m.ref_seq; });
          if (target) {
            target.recalled = true;
            target.text = "";
            target.recalledBy = m.sender_id;
            target.byModerator = m.text === "moderator";
          }
          return true;
        }
        var at = this.messages.length;
        while (at > 0 && this.messages[at - 1].seq > m.seq) at -= 1;
        this.messages.splice(at, 0, m);
        return true;
      },

      atBottom: function () {
        var el = this.$refs.scroller;
        return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      },

      scrollToBottom: function () {
        var el = this.$refs.scroller;
        if (el) el.scrollTop = el.scrollHeight;
      },

      scrollToAnchorOrBottom: function () {
        var anchor = location.hash && document.getElementById(location.hash.slice(1));
        if (anchor) anchor.scrollIntoView({ block: "center" });
        else this.scrollToBottom();
      },

      received: function (m) {
        var stick = this.atBottom() || m.sender_id === this.me.id;
        if (this.add(m) && stick) {
          var self = this;
          this.$nextTick(function () { self.scrollToBottom(); });
        }
        this.markRead();
      },

      onFrame: function (f) {
        var self = this;
        if (f.type === "ack") {
          var index = this.pending.findIndex(function (p) { return p.id === f.id; });
          if (index >= 0) this.pending.splice(index, 1);
          if (f.message) this.received(f.message);
        } else if (f.type === "message" || f.type === "recall") {
          if (f.message && f.message.conversation_id === this.conv.id) this.received(f.message);
        } else if (f.type === "read") {
          if (f.conversation_id === this.conv.id && this.members[f.person_id]) {
            var member = this.members[f.person_id];
            member.read_seq = Math.max(member.read_seq, f.seq);
            this.members = Object.assign({}, this.members);
          }
        } else if (f.type === "typing") {
          if (f.conversation_id === this.conv.id) {
            this.typingText = fill(t.typing, { name: f.name });
            clearTimeout(this.typingTimer);
            this.typingTimer = setTimeout(function () { self.typingText = ""; }, TYPING_SHOWN);
          }
        } else if (f.type === "presence") {
          if (f.person_id === this.conv.peer_id) this.peerOnline = f.online;
        } else if (f.type === "conversation") {
          if (f.conversation_id === this.conv.id) this.refresh();
        } else if (f.type === "synced") {
          if ((f.more || []).indexOf(this.conv.id) >= 0) this.onOpen();
        } else if (f.type === "error") {
          var failed = this.pending.find(function (p) { return p.id === f.id; });
          var reason = (f.errors && f.errors.length) ? f.errors.map(function (e) { return e.reason; }).join("；") : f.detail;
          if (failed) { failed.status = "failed"; failed.error = reason || t.failed; }
          else this.error = reason;
        }
      },

      refresh: async function () {
        var response = await fetch("/api/v1/messaging/im/conversations/" + this.conv.id, { headers: { Accept: "application/json" } });
        if (response.status === 403 || response.status === 404) { location.href = "/messaging/im"; return; }
        if (!response.ok) return;
        var detail = await response.json();
        var self = this;
        this.conv.name = detail.name;
        this.memberList = detail.members;
        this.memberTotal = detail.members.length;
        this.members = {};
        detail.members.forEach(function (m) { self.members[m.person_id] = m; });
      },

      markRead: function () {
        if (document.visibilityState !== "visible" || this.lastSeq <= this.myRead) return;
        var self = this;
        clearTimeout(this.readTimer);
        this.readTimer = setTimeout(function () {
          if (self.lastSeq > self.myRead && self.socket.send({ type: "read", conversation_id: self.conv.id, seq: self.lastSeq })) {
            self.myRead = self.lastSeq;
          }
        }, 300);
      },

      queue: function (frame, label) {
        var item = { id: frame.id, frame: frame, label: label, status: "sending", error: "" };
        this.pending.push(item);
        this.socket.send(frame);
        var self = this;
        this.$nextTick(function () { self.scrollToBottom(); });
      },

      send: function () {
        var text = this.text.trim();
        if (!text) return;
        var frame = { type: "send", id: clientId(), conversation_id: this.conv.id, kind: "text", text: text };
        var names = this.mentions.filter(function (m) { return text.indexOf("@" + m.name) >= 0; });
        if (names.length) frame.mentions = names.map(function (m) { return m.person_id; });
        if (this.mentionAll && text.indexOf("@") >= 0) frame.mention_all = true;
        this.queue(frame, text);
        this.text = "";
        this.mentions = [];
        this.mentionAll = false;
      },

      retry: function (p) {
        p.status = "sending";
        p.error = "";
        this.socket.send(p.frame);
      },

      discard: function (p) {
        this.pending = this.pending.filter(function (x) { return x !== p; });
      },

      upload: async function (event) {
        var file = event.target.files[0];
        event.target.value = "";
        if (!file) return;
        var form = new FormData();
        form.append("file", file);
        var response = await fetch("/api/v1/files", { method: "POST", body: form, headers: { "X-CSRF-Token": cookie("campus_csrf") } });
        if (!response.ok) { this.error = await problemText(response); return; }
        var stored = await response.json();
        var kind = (stored.content_type || "").indexOf("image/") === 0 ? "image" : "file";
        var frame = { type: "send", id: clientId(), conversation_id: this.conv.id, kind: kind, file_id: stored.id };
        this.queue(frame, (kind === "image" ? t.image : t.file) + " " + stored.name);
      },

      typing: function () {
        var now = Date.now();
        if (now - this.lastTypingSent < TYPING_EVERY) return;
        this.lastTypingSent = now;
        this.socket.send({ type: "typing", conversation_id: this.conv.id });
      },

      recall: function (m) {
        this.socket.send({ type: "recall", id: clientId(), conversation_id: this.conv.id, seq: m.seq });
      },

      report: async function (m) {
        var reason = window.prompt(t.report_reason);
        if (!reason || !reason.trim()) return;
        var url = "/api/v1/messaging/im/conversations/" + this.conv.id + "/messages/" + m.seq + "/report";
        var response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": cookie("campus_csrf") },
          body: JSON.stringify({ reason: reason.trim().slice(0, 500) }),
        });
        this.error = response.ok ? t.reported : await problemText(response);
      },

      loadOlder: async function () {
        if (!this.hasOlder || this.loadingOlder || !this.messages.length) return;
        this.loadingOlder = true;
        var el = this.$refs.scroller;
        var before = el.scrollHeight;
        var url = "/api/v1/messaging/im/conversations/" + this.conv.id + "/messages?limit=30&before=" + this.messages[0].seq;
        try {
          var response = await fetch(url, { headers: { Accept: "application/json" } });
          if (!response.ok) { this.error = await problemText(response); return; }
          var page = await response.json();
          var self = this;
          page.items.forEach(function (m) { self.add(m); });
          this.hasOlder = page.next_before !== null;
          this.$nextTick(function () { el.scrollTop = el.scrollHeight - before; });
        } finally {
          this.loadingOlder = false;
        }
      },

      onScroll: function () {
        if (this.$refs.scroller.scrollTop < 40) this.loadOlder();
        if (this.atBottom()) this.markRead();
      },

      insert: function (emoji) {
        this.text += emoji;
        this.showEmoji = false;
        this.$refs.input.focus();
      },

      otherMembers: function () {
        var me = this.me.id;
        return this.memberList.filter(function (m) { return m.person_id !== me; });
      },

      canMentionAll: function () {
        var mine = this.members[this.me.id];
        return !!mine && (mine.role === "owner" || mine.role === "admin");
      },

      mention: function (m) {
        this.text += "@" + m.name + " ";
        this.mentions.push(m);
        this.showMentions = false;
        this.$refs.input.focus();
      },

      mentionEveryone: function () {
        this.text = "@所有人 " + this.text;
        this.mentionAll = true;
        this.showMentions = false;
        this.$refs.input.focus();
      },

      mentionsMe: function (m) {
        return m.sender_id !== this.me.id && (m.mention_all || (m.mentions || []).indexOf(this.me.id) >= 0);
      },

      canRecall: function (m) {
        if (m.sender_id !== this.me.id || m.recalled) return false;
        if (["text", "image", "file"].indexOf(m.kind) < 0) return false;
        return this.now - Date.parse(m.created_at) < cfg.recall_seconds * 1000;
      },

      readLabel: function (m) {
        if (m.sender_id !== this.me.id || m.kind === "system") return "";
        var me = this.me.id;
        if (this.conv.kind === "direct") {
          var peer = this.members[this.conv.peer_id];
          return peer && peer.read_seq >= m.seq ? t.read : t.unread;
        }
        if (this.memberTotal > this.memberList.length) return "";
        var n = this.memberList.filter(function (x) { return x.person_id !== me && x.read_seq >= m.seq; }).length;
        return fill(t.read_by, { n: n });
      },

      recallText: function (m) {
        if (m.byModerator) return t.removed;
        var who = m.recalledBy === undefined ? m.sender_id : m.recalledBy;
        var name = who === this.me.id ? t.you : ((this.members[who] || {}).name || m.sender_name || "");
        return fill(t.recalled, { who: name });
      },

      fileUrl: function (m) {
        return "/api/v1/messaging/im/conversations/" + this.conv.id + "/files/" + m.seq;
      },

      when: when,
      size: size,
    };
  }

  function imList() {
    return {
      q: "",
      hits: [],
      searching: false,
      timer: null,
      socket: null,

      init: function () {
        var self = this;
        this.socket = openSocket(
          function (frame) { self.onFrame(frame); },
          function () { self.socket.send({ type: "sync", since: {}, conversations: [] }); self.reload(); },
          function () {}
        );
      },

      onFrame: function (f) {
        if (["message", "recall", "conversation", "read"].indexOf(f.type) >= 0) this.reload();
      },

      reload: function () {
        clearTimeout(this.timer);
        this.timer = setTimeout(function () {
          if (window.htmx) window.htmx.ajax("GET", "/messaging/im/rows", { target: "#chat-rows", swap: "innerHTML" });
        }, 300);
      },

      search: async function () {
        var q = this.q.trim();
        if (!q) { this.hits = []; return; }
        this.searching = true;
        try {
          var response = await fetch("/api/v1/messaging/im/search?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
          this.hits = response.ok ? await response.json() : [];
        } finally {
          this.searching = false;
        }
      },

      when: when,
    };
  }

  function register() {
    window.Alpine.data("imChat", imChat);
    window.Alpine.data("imList", imList);
  }
  if (window.Alpine) register();
  else document.addEventListener("alpine:init", register);
})();
