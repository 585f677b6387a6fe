/* caseloop workspace: keyboard shortcuts, list navigation, bulk selection, composer and presence.
   A static file (the Content-Security-Policy allows no inline script); every handler is delegated
   from the document, so fragments swapped in by htmx work without re-binding. */
(function () {
  "use strict";

  var doc = document;
  var selected = -1;
  var pendingG = false;

  function all(selector, root) {
    return Array.prototype.slice.call((root || doc).querySelectorAll(selector));
  }

  function isTyping(target) {
    return !!(target && target.closest && target.closest("input, textarea, select, [contenteditable='true']"));
  }

  // --- lists: j / k move, o or Enter opens, x selects for a bulk change ------------------
  function listItems() {
    return all("[data-list-item]");
  }

  function selectItem(index) {
    var items = listItems();
    if (!items.length) return;
    selected = Math.max(0, Math.min(index, items.length - 1));
    items.forEach(function (item, i) {
      item.classList.toggle("is-selected", i === selected);
      if (i === selected) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
    var item = items[selected];
    item.scrollIntoView({ block: "nearest" });
    var link = item.querySelector("a");
    if (link) link.focus({ preventScroll: true });
  }

  function openSelected() {
    var item = listItems()[selected];
    if (item && item.dataset.href) window.location.assign(item.dataset.href);
  }

  function toggleSelected() {
    var item = listItems()[selected];
    var box = item && item.querySelector("input[type='checkbox']");
    if (box) {
      box.checked = !box.checked;
      updateSelectedCount();
    }
  }

  // --- bulk selection -------------------------------------------------------------------------
  function updateSelectedCount() {
    var boxes = all("input[name='cases']");
    var count = boxes.filter(function (b) { return b.checked; }).length;
    all("[data-selected-count]").forEach(function (el) { el.textContent = count + " selected"; });
    all("[data-select-all]").forEach(function (el) {
      el.checked = boxes.length > 0 && count === boxes.length;
      el.indeterminate = count > 0 && count < boxes.length;
    });
    var form = doc.getElementById("bulk-form");
    if (form) form.classList.toggle("has-selection", count > 0);
  }

  // --- the composer: reply or note, and what others see of us -----------------------------------
  function composerKind(kind) {
    var radio = doc.querySelector("#composer input[name='kind'][value='" + kind + "']");
    var body = doc.getElementById("composer-body");
    if (!radio || !body) return;
    radio.checked = true;
    syncComposer();
    body.focus();
  }

  function syncComposer() {
    var form = doc.getElementById("composer");
    if (!form) return;
    var note = !!form.querySelector("input[name='kind'][value='note']:checked");
    form.classList.toggle("is-note", note);
    var button = form.querySelector("[data-send-label]");
    if (button) button.textContent = note ? "Add note" : "Send reply";
    var body = doc.getElementById("composer-body");
    if (body) body.placeholder = note ? "Write an internal note… (only staff see it)" : "Write a reply to the customer… (Ctrl+Enter sends)";
    var activity = doc.getElementById("presence-activity");
    if (activity && body) activity.value = body.value.trim() ? "replying" : "viewing";
  }

  function csrfToken() {
    try {
      return JSON.parse(doc.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // --- keys -------------------------------------------------------------------------------------
  doc.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "composer-body") {
      event.preventDefault();
      var form = doc.getElementById("composer");
      if (form) form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && isTyping(target)) {
      target.blur();
      return;
    }
    if (isTyping(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = doc.getElementById("shortcuts");
    // pages without the list (sign-in, a customer's survey) take no shortcuts: "g i" would leave them
    if (!dialog || dialog.open) return;
    if (pendingG) {
      pendingG = false;
      if (event.key === "i") {
        event.preventDefault();
        window.location.assign("/inbox/");
      }
      return;
    }
    switch (event.key) {
      case "/": {
        var search = doc.getElementById("global-search");
        if (search) {
          event.preventDefault();
          search.focus();
          search.select();
        }
        break;
      }
      case "?":
        if (dialog) {
          event.preventDefault();
          dialog.showModal();
        }
        break;
      case "j":
        event.preventDefault();
        selectItem(selected + 1);
        break;
      case "k":
        event.preventDefault();
        selectItem(selected < 0 ? 0 : selected - 1);
        break;
      case "o":
        openSelected();
        break;
      case "x":
        toggleSelected();
        break;
      case "r":
        if (doc.getElementById("composer")) {
          event.preventDefault();
          composerKind("reply");
        }
        break;
      case "n":
        if (doc.getElementById("composer")) {
          event.preventDefault();
          composerKind("note");
        }
        break;
      case "g":
        pendingG = true;
        window.setTimeout(function () { pendingG = false; }, 1200);
        break;
      default:
        break;
    }
  });

  // --- clicks and changes -----------------------------------------------------------------------
  doc.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-shortcuts]");
    if (opener) {
      var dialog = doc.getElementById("shortcuts");
      if (dialog) dialog.showModal();
      return;
    }
    // a click anywhere on a list row opens it, except on its own links and controls
    var row = event.target.closest("tr[data-list-item]");
    if (row && !event.target.closest("a, button, input, label, select") && row.dataset.href) {
      window.location.assign(row.dataset.href);
    }
  });

  doc.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      all("input[name='cases']").forEach(function (box) { box.checked = target.checked; });
      updateSelectedCount();
    } else if (target.matches("input[name='cases']")) {
      updateSelectedCount();
    } else if (target.matches("#composer input[name='kind']")) {
      syncComposer();
    }
  });

  doc.addEventListener("input", function (event) {
    if (event.target.id === "composer-body") syncComposer();
  });

  // fragments swapped in by htmx (a sent reply, a filled macro) get the composer's state again
  doc.addEventListener("htmx:afterSwap", function (event) {
    var macro = doc.getElementById("macro-select");
    if (macro && event.target && event.target.id === "composer-body") {
      // the canned reply is in the text now: reset the picker so it can be used again, and go on typing
      macro.value = "";
      var body = doc.getElementById("composer-body");
      if (body) body.focus();
      // a canned reply filled in after one that could not be: the earlier refusal no longer applies
      var refusal = doc.getElementById("macro-error");
      var xhr = event.detail && event.detail.xhr;
      if (refusal && xhr && xhr.status < 400) {
        refusal.innerHTML = "";
        refusal.hidden = true;
      }
    }
    syncComposer();
    updateSelectedCount();
  });

  // the presence notice is a live region polled every 10 s: swap it only when who is here changes, so a
  // screen reader says "Eli is viewing this case" once, not every 10 seconds
  doc.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "presence" && event.detail.xhr &&
        event.detail.xhr.responseText.trim() === target.innerHTML.trim()) {
      event.detail.shouldSwap = false;
    }
  });

  // leaving a case page: stop showing as present there at once (rows also expire by themselves)
  window.addEventListener("pagehide", function () {
    var presence = doc.getElementById("presence");
    if (!presence || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(presence.dataset.leaveUrl, data);
  });

  doc.addEventListener("DOMContentLoaded", function () {
    syncComposer();
    updateSelectedCount();
  });
})();
