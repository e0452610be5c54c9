/* The "On this phone" screen (/outbox), loaded by that page only: each entry on this phone and its state, with
 * Try again, Keep as a repeat and Discard; whether the phone works with no network; whether the browser
 * promised to keep its storage; export of unsent entries. It draws each summary that outbox-ui.js announces
 * ("outbox:summary" on document) and sends through it (ITB.flushNow), so it loads after common.js. */
(function () {
  "use strict";
  var Outbox = window.ITBOutbox;
  var ui = window.ITB && window.ITB.outboxUi;
  if (!Outbox || !ui || !document.getElementById("outbox-list")) { return; }
  var el = ui.el;
  var hhmm = ui.hhmm;
  var LABELS = ui.LABELS;
  var userId = ui.userId;
  var refresh = ui.refresh;
  var flushNow = window.ITB.flushNow;
  var KINDS = { "assessments.record": "Assessment", "assessments.correct": "Correction",
                "dosing.observe": "Observations" };  // people read these, not the protocol's kind names

  // "Try again" only where sending again can succeed: a server failure, or a refusal about the record's state
  // (a closed trial reopened...). Values the server refused will be refused again; a conflict can only conflict.
  function retryable(e) {
    if (e.status === "failed") { return true; }
    if (e.status !== "rejected") { return false; }
    return !Object.keys(e.errors || {}).some(function (name) {
      return name === "_schema" || (name.charAt(0) !== "_" && (e.hidden_fields || []).indexOf(name) === -1);
    });
  }
  function say(text) {
    var box = document.getElementById("outbox-message");
    if (box) { box.textContent = text; }
  }
  function tryAgain(e) {
    say("Sending again…");
    return Outbox.update(e.id, { status: "pending", reason: null, errors: null, server_failures: 0 })
      .then(flushNow).then(function () { return Outbox.get(e.id); }).then(function (row) {
        if (!row) { say("Done."); }
        else if (row.status === "sent") { say("Sent " + hhmm(row.sent_at) + "."); }
        else if (row.status === "pending") { say("Not sent yet: " + (row.last_error || "it waits for the network.")); }
        else { say("Still refused: " + (row.reason || "see the entry.")); }
      });
  }
  // Refused only because the day already has one of this phase (saved from a form opened before the first
  // reached the server): the PT may keep it as a repeat. That is a changed entry, so it gets a new id and the
  // refused one is marked replaced; the phone's time of the assessment stays.
  function repeatable(e) {
    var names = Object.keys(e.errors || {});
    return e.status === "rejected" && e.kind === "assessments.record" && names.length === 1 && names[0] === "repeat";
  }
  function keepAsRepeat(e) {
    say("Sending as a repeat…");
    return Outbox.enqueue({ id: e.id, kind: e.kind, payload: Object.assign({}, e.payload, { repeat: "1" }),
                            base_rev: e.base_rev, author_id: e.author_id, recorded_at: e.recorded_at,
                            form_version: e.form_version, label: e.label, device_id: e.device_id,
                            return_url: e.return_url, hidden_fields: e.hidden_fields,
                            field_labels: e.field_labels })
      .then(function (row) { return flushNow().then(function () { return Outbox.get(row.id); }); })
      .then(function (row) {
        if (row && row.status === "sent") { say("Kept as a repeat: sent " + hhmm(row.sent_at) + "."); }
        else if (row && row.status === "pending") { say("Kept as a repeat: it will send when the network returns."); }
        else { say("Still refused: " + ((row && row.reason) || "see the entry.")); }
      });
  }
  function renderOutboxPage(s) {
    var list = document.getElementById("outbox-list");
    if (!list) { return; }
    list.textContent = "";
    var rows = s.entries.slice()
      .sort(function (a, b) { return (b.saved_at || "").localeCompare(a.saved_at || ""); });
    var mine = rows.filter(function (e) { return e.author_id === userId; });
    var others = rows.length - mine.length;
    var risky = {};
    Outbox.atRisk(rows).forEach(function (e) { risky[e.id] = true; });
    var warning = document.getElementById("outbox-risk");
    if (warning) {
      warning.textContent = s.atRisk
        ? s.atRisk + (s.atRisk === 1 ? " entry has" : " entries have") + " waited on this phone for over " +
          Outbox.AT_RISK_AFTER_HOURS + " hours. The browser may clear what a site keeps when it is not used " +
          "for some days (Safari on an iPhone: after 7 days). Open the app where the ward's network reaches the " +
          "server so they are sent, or export them as a file below."
        : "";
    }
    if (!mine.length) { list.appendChild(el("p", { class: "empty" }, "Nothing from you on this phone.")); }
    mine.forEach(function (e) {
      var li = el("li", { class: "card outbox-entry", "data-state": e.status, "data-entry": e.id });
      li.appendChild(el("span", { class: "card-title" }, e.label || KINDS[e.kind] || e.kind));
      var state = (LABELS[e.status] || e.status) + (e.status === "sent" ? " " + hhmm(e.sent_at) : "");
      li.appendChild(el("span", { class: "badge badge-" + e.status }, state));
      li.appendChild(el("span", { class: "card-meta" }, "Saved " + hhmm(e.saved_at) + " · " + (KINDS[e.kind] || e.kind)));
      if (e.reason) { li.appendChild(el("span", { class: "card-reason" }, e.reason)); }
      if (e.last_error && e.status === "pending") { li.appendChild(el("span", { class: "card-meta" }, e.last_error)); }
      if (risky[e.id]) {
        li.appendChild(el("span", { class: "card-risk" }, "Waiting over " + Outbox.AT_RISK_AFTER_HOURS + " h"));
      }
      if (e.status === "rejected" && e.errors) {
        var errs = el("ul", { class: "card-errors" });
        Object.keys(e.errors).forEach(function (name) {  // the values refused, in the form's words
          var msgs = e.errors[name];
          var text = Array.isArray(msgs) ? msgs.join(" ") : String(msgs);
          if ((e.hidden_fields || []).indexOf(name) !== -1 || text === e.reason) { return; }
          var label = (e.field_labels || {})[name];
          errs.appendChild(el("li", {}, (label ? label + ": " : "") + text));
        });
        if (errs.childNodes.length) { li.appendChild(errs); }
      }
      if (retryable(e)) {
        var retry = el("button", { type: "button", class: "btn btn-small" }, "Try again");
        retry.addEventListener("click", function () { tryAgain(e); });
        li.appendChild(retry);
      }
      if (e.status === "conflict") {
        li.appendChild(el("a", { href: "/sync/conflicts", class: "btn btn-small" }, "Open both versions"));
      }
      if (repeatable(e)) {
        var keep = el("button", { type: "button", class: "btn btn-small" }, "Keep as a repeat");
        keep.addEventListener("click", function () { keepAsRepeat(e); });
        li.appendChild(keep);
      }
      if (Outbox.NEEDS_ATTENTION[e.status]) {
        var discard = el("button", { type: "button", class: "btn btn-small btn-danger" },
                         e.status === "conflict" ? "Remove from this phone" : "Discard");
        discard.addEventListener("click", function () {
          var question = e.status === "conflict"
            ? "Remove this entry from the phone? The server keeps both versions for review."
            : "Discard this entry from the phone? Export it first if it may be needed.";
          if (window.confirm(question)) {
            Outbox.remove(e.id).then(function () { say("Removed from this phone."); return refresh(); });
          }
        });
        li.appendChild(discard);
      }
      list.appendChild(li);
    });
    var note = document.getElementById("outbox-others");
    if (note) { note.textContent = others ? others + " entries by other users wait on this phone for them." : ""; }
  }
  // Whether this page works with no network (the service worker controls it). In Safari a worker can stay
  // "installing" until the browser is restarted (docs/ios.md): then this says what to do.
  function renderOfflineReady() {
    var box = document.getElementById("outbox-offline");
    if (!box) { return; }
    var ready = !!(navigator.serviceWorker && navigator.serviceWorker.controller);
    box.dataset.ready = String(ready);
    box.textContent = ready
      ? "With no network: ready. This phone keeps the app's pages and saves entries until they can be sent."
      : "With no network: not ready yet. Stay on the network for a moment; if this does not change, close the " +
        "browser (or the Home Screen app) and open it again while on the network.";
  }
  renderOfflineReady();
  if (navigator.serviceWorker) { navigator.serviceWorker.addEventListener("controllerchange", renderOfflineReady); }

  // Whether the browser promised to keep this phone's storage; asked again each time this screen opens.
  function renderStorage() {
    var box = document.getElementById("outbox-storage");
    if (!box) { return Promise.resolve(); }
    return Outbox.storagePersistence(true).then(function (st) {
      box.dataset.persisted = st.supported ? String(st.persisted) : "unsupported";
      box.textContent = !st.supported
        ? "Storage: this browser does not say whether it keeps the app's storage. Send entries soon."
        : st.persisted
          ? "Storage: this browser has promised to keep the app's storage."
          : "Storage: asked to keep the app's storage; this browser has not promised to. It may clear it " +
            "when the app is not used for some days. Send entries soon.";
    });
  }
  renderStorage();
  var exportBtn = document.getElementById("outbox-export");
  if (exportBtn) {
    exportBtn.addEventListener("click", function () {
      Outbox.all().then(function (rows) {
        var keep = rows.filter(function (e) { return e.status !== "sent"; });
        var blob = new Blob([JSON.stringify({ exported_at: new Date().toISOString(), entries: keep }, null, 2)],
                            { type: "application/json" });
        var a = el("a", { href: URL.createObjectURL(blob), download: "itb-outbox-" + Date.now() + ".json" });
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    });
  }

  document.addEventListener("outbox:summary", function (evt) { renderOutboxPage(evt.detail); });
  refresh();  // the summary announced before this script ran is drawn now
})();
