/*
 * caseloop live chat widget.
 *
 *   <script src="https://support.example.com/chat/widget.js" data-widget="KEY" async></script>
 *
 * Runs on someone else's page, so: no inline code or styles (it works under the
 * host page's Content-Security-Policy when that allows our origin in script-src,
 * style-src and connect-src), everything lives in a shadow root (the page's CSS
 * does not reach in, ours does not leak out), text is only ever set with
 * textContent, and requests carry no cookies. The chat's token is kept in
 * localStorage so a reload resumes the chat.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[data-widget][src*="/chat/widget.js"]');
  if (!script || !script.getAttribute("data-widget")) {
    return;
  }
  var base = new URL(script.src, document.baseURI).origin;
  var key = script.getAttribute("data-widget");
  var api = base + "/chat/api/" + encodeURIComponent(key) + "/";
  var storageKey = "caseloop-chat:" + key;
  var RECONNECT_MS = 1000;
  var SLOW_RECONNECT_MS = 2500;

  var state = { token: null, lastId: 0, seen: {}, source: null, reconnect: null, openedAt: 0, ended: false };

  function stored() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function store(token) {
    try {
      if (token) { window.localStorage.setItem(storageKey, token); } else { window.localStorage.removeItem(storageKey); }
    } catch (e) { /* storage blocked: the chat still works until the page is left */ }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function request(method, path, body) {
    var headers = {};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (state.token) { headers["X-Chat-Token"] = state.token; }
    return fetch(api + path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors", credentials: "omit", cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || "Something went wrong; please try again.");
          error.code = data.code || "";
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  // --- the frame: a launcher button and a panel, in a shadow root -------------------------------------
  var host = el("div", { id: "caseloop-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: base + "/chat/widget.css" }));
  var launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "cl-panel" }, "Chat with us");
  var panel = el("section", { id: "cl-panel", "class": "panel", role: "dialog", "aria-label": "Chat", hidden: "" });
  var header = el("header", { "class": "head" });
  var title = el("h2", { "class": "title" }, "Chat");
  var close = el("button", { type: "button", "class": "close", "aria-label": "Close the chat window" }, "×");
  header.appendChild(title);
  header.appendChild(close);
  var body = el("div", { "class": "body" });
  panel.appendChild(header);
  panel.appendChild(body);
  root.appendChild(launcher);
  root.appendChild(panel);

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = panel.querySelector("textarea, input");
      if (first) { first.focus(); }
    }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { toggle(false); launcher.focus(); }
  });

  function show(view) {
    body.textContent = "";
    body.appendChild(view);
  }

  function notice(text, kind) {
    return el("p", { "class": "notice" + (kind ? " notice-" + kind : ""), role: kind === "error" ? "alert" : "status" }, text);
  }

  function field(label, name, type, required) {
    var id = "cl-" + name;
    var wrap = el("div", { "class": "field" });
    wrap.appendChild(el("label", { "for": id }, label + (required ? "" : " (optional)")));
    var input = type === "textarea" ? el("textarea", { id: id, name: name, rows: "3" }) : el("input", { id: id, name: name, type: type });
    if (required) { input.setAttribute("required", ""); }
    wrap.appendChild(input);
    return wrap;
  }

  function form(intro, fields, submitLabel, onSubmit) {
    var f = el("form", { "class": "form", novalidate: "" });
    f.appendChild(el("p", { "class": "intro" }, intro));
    fields.forEach(function (spec) { f.appendChild(field(spec[0], spec[1], spec[2], spec[3])); });
    var error = el("p", { "class": "notice notice-error", role: "alert", hidden: "" });
    f.appendChild(error);
    var button = el("button", { type: "submit", "class": "send" }, submitLabel);
    f.appendChild(button);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      fields.forEach(function (spec) { values[spec[1]] = f.elements[spec[1]].value.trim(); });
      var missing = fields.filter(function (spec) { return spec[3] && !values[spec[1]]; });
      if (missing.length) {
        error.textContent = "Please fill in: " + missing.map(function (spec) { return spec[0]; }).join(", ") + ".";
        error.hidden = false;
        return;
      }
      button.disabled = true;
      error.hidden = true;
      onSubmit(values).catch(function (err) {
        error.textContent = err.message;
        error.hidden = false;
      }).then(function () { button.disabled = false; });
    });
    return f;
  }

  // --- the conversation ---------------------------------------------------------------------------
  var log = null;
  var composer = null;

  function addMessage(message) {
    if (!log || state.seen[message.id]) { return; }
    state.seen[message.id] = true;
    state.lastId = Math.max(state.lastId, message.id);
    var item = el("li", { "class": "msg msg-" + message.from });
    if (message.from === "agent") { item.appendChild(el("span", { "class": "who" }, message.name)); }
    item.appendChild(el("span", { "class": "text" }, message.text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function conversation(messages, greeting) {
    var view = el("div", { "class": "conversation" });
    log = el("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
    if (greeting) { log.appendChild(el("li", { "class": "msg msg-agent msg-greeting" }, greeting)); }
    view.appendChild(log);
    composer = el("form", { "class": "composer" });
    var input = el("textarea", { name: "text", rows: "2", "aria-label": "Your message", placeholder: "Write a message…" });
    var send = el("button", { type: "submit", "class": "send" }, "Send");
    composer.appendChild(input);
    composer.appendChild(send);
    var end = el("button", { type: "button", "class": "end" }, "End chat");
    view.appendChild(composer);
    view.appendChild(end);
    var problem = el("p", { "class": "notice notice-error", role: "alert", hidden: "" });
    view.appendChild(problem);
    state.seen = {};
    messages.forEach(addMessage);
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { return; }
      var clientId = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
      send.disabled = true;
      request("POST", "chat/messages/", { text: text, client_id: clientId }).then(function (message) {
        input.value = "";
        problem.hidden = true;
        addMessage(message);
      }).catch(function (err) {
        if (err.code === "chat_ended" || err.code === "already_closed") { ended(); return; }
        problem.textContent = err.message;
        problem.hidden = false;
      }).then(function () { send.disabled = false; input.focus(); });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
    });
    end.addEventListener("click", function () {
      request("POST", "chat/end/", {}).catch(function () { return null; }).then(ended);
    });
    show(view);
    listen();
  }

  function ended() {
    if (state.ended) { return; }
    state.ended = true;
    stopListening();
    store(null);
    state.token = null;
    if (composer) { composer.remove(); }
    var end = body.querySelector(".end");
    if (end) { end.remove(); }
    var again = el("button", { type: "button", "class": "send" }, "Start a new chat");
    again.addEventListener("click", function () {
      request("GET", "").then(function (data) { info = data; }).catch(function () { return null; }).then(start);
    });
    body.appendChild(notice("This chat has ended. Thank you!"));
    body.appendChild(again);
  }

  // --- live delivery: server-sent events, reopened where the last one stopped ---------------------------
  function stopListening() {
    if (state.source) { state.source.close(); state.source = null; }
    if (state.reconnect) { clearTimeout(state.reconnect); state.reconnect = null; }
  }

  function listen() {
    stopListening();
    if (!state.token || state.ended) { return; }
    var url = api + "chat/stream/?token=" + encodeURIComponent(state.token) + "&after=" + state.lastId;
    var source = new EventSource(url);
    state.source = source;
    state.openedAt = Date.now();
    source.addEventListener("message", function (event) { addMessage(JSON.parse(event.data)); });
    source.addEventListener("ended", function () { ended(); });
    source.onerror = function () {
      // the server ends each stream after a while (or at once when it is busy): reopen it from the last message
      source.close();
      if (state.source !== source || state.ended) { return; }
      var quick = Date.now() - state.openedAt < 2000;
      state.reconnect = setTimeout(listen, quick ? SLOW_RECONNECT_MS : RECONNECT_MS);
    };
  }

  // --- the start: resume, chat, or leave an email ------------------------------------------------------
  var info = { greeting: "", offline_text: "", available: false };

  function start() {
    state.ended = false;
    state.lastId = 0;
    if (info.available) {
      show(form(info.greeting, [["Your name", "name", "text", false], ["Your email", "email", "email", false],
                                ["Your message", "text", "textarea", true]], "Start chat", function (values) {
        values.page = window.location.href;
        return request("POST", "chats/", values).then(function (data) {
          state.token = data.token;
          store(data.token);
          conversation(data.messages, info.greeting);
        }).catch(function (err) {
          if (err.code === "nobody_available") { info.available = false; start(); return; }
          throw err;
        });
      }));
    } else {
      show(form(info.offline_text, [["Your name", "name", "text", false], ["Your email", "email", "email", true],
                                    ["Your question", "text", "textarea", true]], "Send", function (values) {
        values.page = window.location.href;
        return request("POST", "offline/", values).then(function (data) {
          show(notice("Thank you. We will answer by email at " + data.email + "."));
        });
      }));
    }
  }

  function boot() {
    document.body.appendChild(host);
    show(notice("Connecting…"));
    request("GET", "").then(function (data) {
      info = data;
      title.textContent = data.name || "Chat";
      state.token = stored();
      if (!state.token) { start(); return null; }
      return request("GET", "chat/").then(function (chat) {
        if (chat.state !== "open") { store(null); state.token = null; start(); return; }
        conversation(chat.messages, info.greeting);
      }).catch(function () { store(null); state.token = null; start(); });
    }).catch(function (err) {
      show(notice("The chat is not available here. " + err.message, "error"));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
