/* The page side of offline capture: service worker registration and updates, saving forms into the outbox,
 * sending triggers, and the visible state of every entry (header, the form just saved). The /outbox screen is
 * outbox-page.js, loaded by that page only: it draws each summary announced here ("outbox:summary"). */
(function () {
  "use strict";
  var Outbox = window.ITBOutbox;
  if (!Outbox) { return; }
  var statusEl = document.getElementById("sync-status");
  var userId = statusEl && statusEl.dataset.userId ? parseInt(statusEl.dataset.userId, 10) : null;
  var LABELS = { pending: "Saved on this phone", sending: "Sending…", sent: "Sent",
                 rejected: "Needs attention", conflict: "Needs attention (conflict)",
                 failed: "Needs attention (server error)", replaced: "Replaced by a later save" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) { node.textContent = text; }
    return node;
  }
  function hhmm(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  // ---- service worker: register; offer a reload when a new version waits (never take over mid-entry) ----
  function offerReload(reg) {
    if (document.getElementById("update-banner")) { return; }
    var bar = el("div", { id: "update-banner", class: "update-banner", role: "status" });
    bar.appendChild(el("span", {}, "A new version of the app is ready."));
    var btn = el("button", { type: "button", class: "btn btn-small" }, "Reload to update");
    btn.addEventListener("click", function () {
      if (reg.waiting) { reg.waiting.postMessage({ type: "SKIP_WAITING" }); }
    });
    bar.appendChild(btn);
    document.body.insertBefore(bar, document.body.firstChild);
  }
  if ("serviceWorker" in navigator) {
    var hadController = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
      if (reg.waiting && hadController) { offerReload(reg); }
      reg.addEventListener("updatefound", function () {
        var sw = reg.installing;
        if (!sw) { return; }
        sw.addEventListener("statechange", function () {
          if (sw.state === "installed" && navigator.serviceWorker.controller) { offerReload(reg); }
        });
      });
      warmCache();
    }).catch(function () { /* the app still works online without a worker */ });
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (hadController) { window.location.reload(); }
      hadController = true;
    });
  }

  // Pages this user is likely to need on the ward with no network: cache them now, while online.
  function warmCache() {
    if (!navigator.serviceWorker) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      // A page that loaded while the worker was still installing is not controlled: ask it to claim us,
      // so this page too works when the network drops.
      if (!navigator.serviceWorker.controller && reg.active) { reg.active.postMessage({ type: "CLAIM" }); }
    });
    if (!userId || !navigator.onLine) { return; }
    // This page too: the worker skips any copy it stored in the last few minutes (its network-first fetch
    // stores pages it controls), and fetches the ones loaded before it took control.
    var urls = [window.location.pathname + window.location.search];
    document.querySelectorAll("a[data-offline]").forEach(function (a) { urls.push(a.getAttribute("href")); });
    urls.push("/outbox");
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) { reg.active.postMessage({ type: "WARM", urls: urls }); }
    });
  }

  // ---- header: pending count, last successful sync, sign-in needed, Sync now ----
  // Rebuilt only when what it says changes: a link or button replaced while a finger is on it loses the tap.
  var headerSaid = null;
  function renderHeader(s) {
    if (!statusEl) { return; }
    var said = JSON.stringify([s.state.phase, s.pending, s.pendingOthers, s.lastSync, s.attention, s.atRisk]);
    if (said === headerSaid && statusEl.childNodes.length) { return; }
    headerSaid = said;
    statusEl.textContent = "";
    var text;
    if (s.state.phase === "signin" && (s.pending || (!userId && s.pendingOthers))) {
      var n = s.pending + (userId ? 0 : s.pendingOthers);
      var link = el("a", { href: "/login?next=" + encodeURIComponent(location.pathname), class: "sync-signin" },
                    "Sign in to send " + n + " " + (n === 1 ? "entry" : "entries"));
      statusEl.appendChild(link);
      return;
    }
    if (s.pending) {
      text = "● " + s.pending + " on this phone";
    } else if (s.lastSync) {
      text = "✓ Sent " + hhmm(s.lastSync);
    } else {
      text = "";
    }
    if (text) { statusEl.appendChild(el("span", { class: "sync-count" }, text)); }
    if (s.attention) {
      statusEl.appendChild(el("a", { href: "/outbox", class: "sync-attention" },
                              s.attention + " need" + (s.attention === 1 ? "s" : "") + " attention"));
    }
    if (s.pendingOthers) {
      statusEl.appendChild(el("span", { class: "sync-others" }, s.pendingOthers + " wait for another user"));
    }
    if (s.atRisk) {  // the browser may clear them (Safari: after 7 days without a visit)
      statusEl.appendChild(el("a", { href: "/outbox", class: "sync-risk" },
                              s.atRisk + " waiting over " + Outbox.AT_RISK_AFTER_HOURS + " h"));
    }
    if (userId) {
      var btn = el("button", { type: "button", class: "btn btn-small btn-quiet sync-now" }, "Sync now");
      btn.addEventListener("click", function () { flushNow(); });
      statusEl.appendChild(btn);
    }
  }

  // ---- the form just saved: its entry's state, and server field errors beside the fields ----
  var watched = {};  // entry id -> form
  function showFieldErrors(form, errors) {
    form.querySelectorAll(".field-error[data-from-sync]").forEach(function (n) { n.remove(); });
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
      var msgs = errors[name];
      var text = Array.isArray(msgs) ? msgs.join(" ") : (typeof msgs === "string" ? msgs : JSON.stringify(msgs));
      var id = (input && input.id ? input.id : name.replace(/[^a-zA-Z0-9_-]/g, "_")) + "-sync-error";
      var p = el("p", { class: "field-error", id: id, "data-from-sync": "1" }, text);
      if (input) {
        var field = input.closest(".field, fieldset, td, .mas-row") || input.parentNode;
        field.hidden = false;  // a control shown only when needed (the repeat box)
        field.insertBefore(p, field.firstChild.nextSibling);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", id);
      } else {
        form.insertBefore(p, form.firstChild);
      }
    });
  }
  // A rejection the user can fix on this form: errors on fields the user fills in (or on the whole set of
  // values, "_schema"), not a refusal about the record itself (the trial was closed: an error on a hidden
  // field such as trial_id, or "_form").
  function fixableHere(form, entry) {
    return document.contains(form) && Object.keys(entry.errors || {}).some(function (name) {
      if (name === "_schema") { return true; }
      var control = form.querySelector('[name="' + CSS.escape(name) + '"]');
      return !!control && control.type !== "hidden";
    });
  }
  function formStatus(form, entry, phase) {
    var box = form.querySelector("[data-outbox-status]");
    if (!box) {
      box = el("p", { class: "outbox-status", "data-outbox-status": "", role: "status", "aria-live": "polite" });
      form.appendChild(box);
    }
    if (entry.status === "rejected" && fixableHere(form, entry)) {
      // The server refused the values on this form, which is still open: the errors go beside the fields, the
      // typed values stay (and back into the draft, should the tab close), and the phone keeps no entry
      // that nobody could correct. The next Save is a new attempt.
      showFieldErrors(form, entry.errors);
      box.dataset.state = "invalid";
      box.textContent = "Not saved: correct the fields marked, then save again.";
      delete watched[entry.id];
      Outbox.remove(entry.id).then(function () {
        form.dispatchEvent(new CustomEvent("outbox:returned", { bubbles: true }));  // draft.js keeps it again
        refresh();
      });
      return;
    }
    box.dataset.state = entry.status;
    var text = LABELS[entry.status] || entry.status;
    if (entry.status === "sent") { text += " " + hhmm(entry.sent_at); }
    // The browser knows it is offline, or (Safari: on Wi-Fi that cannot reach the server, navigator.onLine stays
    // true) the last attempt could not reach the server.
    if (entry.status === "pending" && (!navigator.onLine || phase === "offline")) {
      text += " · will send when the network returns";
    }
    if ((entry.status === "rejected" || entry.status === "conflict") && entry.reason) { text += ": " + entry.reason; }
    box.textContent = text;
    if (entry.status === "rejected" && entry.errors) { showFieldErrors(form, entry.errors); }
    if (entry.status === "sent" && form.dataset.outboxNext && !form.dataset.leaving) {
      form.dataset.leaving = "1";  // once: a second assign would abort the first navigation
      window.location.assign(form.dataset.outboxNext);
    }
  }

  function refresh() {
    return Outbox.summary(userId).then(function (s) {
      renderHeader(s);
      Object.keys(watched).forEach(function (id) {
        var row = s.entries.filter(function (e) { return e.id === id; })[0];
        if (row) { formStatus(watched[id], row, s.state.phase); }
      });
      document.dispatchEvent(new CustomEvent("outbox:summary", { detail: s }));
      return s;
    });
  }

  function flushNow() {
    return Outbox.flush().then(refresh);
  }

  // ---- saving a form into the outbox (online and offline alike) ----
  // What each field is called on screen, so /outbox can say which value the server refused in people's words:
  // its accessible name where the markup gives one (aria-label: "Hip adductors, Left"), else its group's or label.
  function fieldLabels(form) {
    var labels = {};
    Array.prototype.forEach.call(form.elements, function (control) {
      if (!control.name || control.type === "hidden" || labels[control.name]) { return; }
      var group = control.closest("fieldset");
      var legend = group && group.querySelector("legend");
      var choice = control.type === "radio" || control.type === "checkbox";
      var text = control.getAttribute("aria-label") ||
        (choice && group && group.getAttribute("aria-label")) || (choice && legend ? legend.textContent
        : (control.labels && control.labels.length ? control.labels[0].textContent : ""));
      if (text) { labels[control.name] = text.replace(/\s+/g, " ").trim(); }
    });
    return labels;
  }

  function formPayload(form) {
    var data = {};
    new FormData(form).forEach(function (value, key) {
      // Not content: the CSRF token, and the page's copy of the entry id (for the plain POST without JavaScript),
      // which changes with each new entry and would make the same content look changed.
      if (key === "csrf_token" || key === "entry_id" || typeof value !== "string") { return; }
      if (Object.prototype.hasOwnProperty.call(data, key)) {
        data[key] = [].concat(data[key], value);
      } else {
        data[key] = value;
      }
    });
    return data;
  }


  // An entry id belongs to one act of saving (docs/sync.md): every outbox form gets a new id each time it is
  // opened, so a page opened again (from the network or the offline cache) never reuses one. A reload or a
  // Back/Forward to the same form continues the same act (the browser puts back what was typed), so it keeps
  // the id this tab last saved that form under: saving the same content again is then the same entry. The id
  // the server put in the page serves the plain POST without JavaScript.
  var FORM_IDS = "itb.formEntry:";
  function setEntryId(form, id) {
    var old = form.dataset.entryId;
    form.dataset.entryId = id;
    var hidden = form.querySelector('input[name="entry_id"]');
    if (hidden) { hidden.value = id; }
    if (old && old !== id && form.dataset.outboxNext) {
      form.dataset.outboxNext = form.dataset.outboxNext.split(old).join(id);
    }
  }
  function formKey(form) {
    return FORM_IDS + location.pathname + location.search + "|" + (form.id || form.getAttribute("action") || "");
  }
  function tabStore() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function resumed() {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0]
                                                                  : null;
    return !!nav && (nav.type === "reload" || nav.type === "back_forward");
  }
  function freshEntryIds(root, continuing) {
    var forms = root.matches && root.matches("form[data-outbox]") ? [root]
      : Array.prototype.slice.call(root.querySelectorAll("form[data-outbox]"));
    var store = tabStore();
    forms.forEach(function (form) {
      var kept = continuing && store ? store.getItem(formKey(form)) : null;
      setEntryId(form, kept || Outbox.newId());
    });
  }
  function rememberEntryId(form, id) {
    var store = tabStore();
    try { if (store) { store.setItem(formKey(form), id); } } catch (e) { /* full: a new id next time */ }
  }
  freshEntryIds(document, resumed());
  document.addEventListener("htmx:load", function (evt) {  // content swapped in later (htmx also fires this
    var elt = evt.detail && evt.detail.elt;                     // for the whole body at start: done above)
    if (elt && elt !== document.body && elt.querySelectorAll) { freshEntryIds(elt, false); }
  });

  window.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.outbox) { return; }
    evt.preventDefault();
    evt.stopPropagation();  // capture phase on window: htmx and other handlers never see this submit
    if (!userId) {
      formStatus(form, { status: "rejected", reason: "Sign in first, so the entry can carry your name." });
      return;
    }
    if (form.dataset.validate === "client" && typeof form.reportValidity === "function" && !form.checkValidity()) {
      form.reportValidity();
      return;
    }
    if (!form.dataset.entryId) { setEntryId(form, Outbox.newId()); }
    var id = form.dataset.entryId;
    var entry = {
      id: id, kind: form.dataset.outbox, payload: formPayload(form), author_id: userId,
      device_id: (window.ITB && window.ITB.deviceId) || "unknown-device",
      recorded_at: new Date().toISOString(),
      base_rev: form.dataset.baseRev ? parseInt(form.dataset.baseRev, 10) : null,
      form_version: parseInt(form.dataset.formVersion || "1", 10),
      label: form.dataset.outboxLabel || document.title, return_url: location.pathname + location.search,
      // kept on the phone only (never sent): which fields the user does not fill in, so /outbox can tell a
      // refusal of the values typed (retrying cannot help) from one about the record's state (it may)
      hidden_fields: Array.prototype.map.call(form.querySelectorAll('input[type="hidden"][name]'),
                                              function (input) { return input.name; }),
      field_labels: fieldLabels(form)
    };
    var button = form.querySelector('[type="submit"]');
    if (button) { button.disabled = true; }
    Outbox.enqueue(entry).then(function (row) {
      setEntryId(form, row.id);  // a new id when the content changed since the last save of this form
      rememberEntryId(form, row.id);
      watched[row.id] = form;
      form.querySelectorAll(".field-error[data-from-sync]").forEach(function (n) { n.remove(); });
      formStatus(form, row);
      form.dispatchEvent(new CustomEvent("outbox:saved", { bubbles: true, detail: { id: row.id } }));
      if ("serviceWorker" in navigator && "SyncManager" in window) {  // Chromium only; elsewhere sendTriggers
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync.register("itb-outbox"); })
          .catch(function () { /* the timer and the online event still send it */ });
      }
      Outbox.storagePersistence(true);  // something worth keeping is on the phone: ask the browser to keep it
      return flushNow();
    }, function (err) {
      formStatus(form, { status: "rejected", reason: "Could not save on this phone: " + (err && err.message) });
    }).then(function () { if (button) { button.disabled = false; } });
  }, true);

  // ---- sign-out: warn about entries still on the phone; never delete them; forget cached pages ----
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-signout")) { return; }
    if (form.dataset.confirmed === "1") { return; }
    evt.preventDefault();
    Outbox.summary(userId).then(function (s) {  // this user's entries; others' wait for them regardless
      var waiting = s.pending + s.attention;
      if (waiting && !window.confirm(waiting + (waiting === 1 ? " entry is" : " entries are") +
          " still only on this phone. They stay here and are sent after you sign in again. Sign out?")) {
        return;
      }
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "FORGET_PAGES" });
      }
      form.dataset.confirmed = "1";
      form.submit();
    });
  }, true);

  // ---- when to send: now, online again, visible again, on a timer (Outbox.sendTriggers: the only senders
  // where there is no Background Sync, as in Safari), and show it when another tab/worker changes it ----
  window.ITB = window.ITB || {};
  window.ITB.flushNow = flushNow;   // also the hook the browser tests call
  window.ITB.outboxSummary = function () { return Outbox.summary(userId); };
  // For the /outbox screen (outbox-page.js): the same helpers and words, and a way to draw it again now.
  window.ITB.outboxUi = { el: el, hhmm: hhmm, LABELS: LABELS, userId: userId, refresh: refresh };
  if (Outbox.channel) { Outbox.channel.addEventListener("message", function () { refresh(); }); }
  document.addEventListener("outbox:changed", function () { refresh(); });
  Outbox.watchPageCache(window);  // Safari's back/forward cache must not freeze the outbox for other pages
  refresh().then(function () {
    Outbox.sendTriggers(window, document, function (why) {
      if (why !== "load" || userId) { flushNow(); }  // on load, only when someone is signed in to send as
    });
  });
})();
