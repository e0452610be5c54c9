/* A draft of a form kept on this phone (localStorage), so a locked screen or a closed tab loses nothing.
 *
 * Forms opt in with data-draft-key (form id + trial + day + phase, made by the server); the key is also
 * scoped to the signed-in user, so a shared phone never offers one person's draft to another. Fields are
 * saved as they are typed or tapped and restored when the form opens again. The draft is cleared when
 * the outbox has saved the entry (the "outbox:saved" event on the form) or when the server shows the
 * saved page after a plain submit (an element with data-draft-clear="<key>"); it is kept again when the server
 * refuses the values while the form is open (the "outbox:returned" event).
 * Hidden fields (ids, CSRF token) are never kept: a restored draft is saved under the form's new entry id. */
(function () {
  "use strict";
  var PREFIX = "itb.draft:";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var statusEl = document.getElementById("sync-status");
  var user = (statusEl && statusEl.dataset.userId) || "anon";

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function fullKey(key) { return PREFIX + user + ":" + key; }
  function hhmm(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function kept(el) {
    var t = el.type;
    return el.name && !el.disabled && t !== "hidden" && t !== "submit" && t !== "button" && t !== "reset" &&
      t !== "file" && el.name !== "csrf_token";
  }

  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) { return; }
      if (el.type === "radio") {
        if (el.checked) { data[el.name] = el.value; }
      } else if (el.type === "checkbox") {
        if (el.checked) { (data[el.name] = data[el.name] || []).push(el.value); }
      } else if (el.value !== "") {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function apply(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) { return; }
      var value = Object.prototype.hasOwnProperty.call(data, el.name) ? data[el.name] : null;
      if (el.type === "radio") {
        el.checked = value === el.value;
      } else if (el.type === "checkbox") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else {
        el.value = value == null ? "" : value;
      }
    });
    // Open the "not tested" panels that hold something, so nothing restored is out of sight.
    form.querySelectorAll("details.nt").forEach(function (d) {
      var filled = Array.prototype.some.call(d.querySelectorAll("input, select"), function (el) {
        return (el.type === "checkbox" ? el.checked : el.value !== "");
      });
      if (filled) { d.open = true; }
    });
  }

  function setStatus(form, text, canDiscard) {
    var box = form.querySelector("[data-draft-text]");
    if (box) { box.textContent = text; }
    var discard = form.querySelector("[data-draft-discard]");
    if (discard) { discard.hidden = !canDiscard; }
  }

  function sweep(store) {
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (!k || k.indexOf(PREFIX) !== 0) { continue; }
      try {
        var d = JSON.parse(store.getItem(k));
        if (!d || now - d.saved_at > MAX_AGE_MS) { store.removeItem(k); }
      } catch (e) { store.removeItem(k); }
    }
  }

  function init(form, store) {
    var key = fullKey(form.dataset.draftKey);
    var done = false;  // saved by the outbox: stop keeping a draft of what is already safe
    var timer = null;

    function save() {
      timer = null;
      if (done) { return; }
      var data = collect(form);
      try {
        if (Object.keys(data).length) {
          var now = Date.now();
          store.setItem(key, JSON.stringify({ saved_at: now, fields: data }));
          setStatus(form, "Draft kept on this phone · " + hhmm(now), true);
        } else {
          store.removeItem(key);
          setStatus(form, "", false);
        }
      } catch (e) {
        setStatus(form, "This phone's storage is full: the draft could not be kept.", false);
      }
    }
    function soon() {
      if (timer === null) { timer = window.setTimeout(save, 250); }
    }
    function clear() {
      done = true;
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
      store.removeItem(key);
      setStatus(form, "", false);
    }

    var raw = store.getItem(key);
    if (raw) {
      try {
        var draft = JSON.parse(raw);
        apply(form, draft.fields || {});
        setStatus(form, "Draft restored from " + hhmm(draft.saved_at) + ", kept on this phone.", true);
      } catch (e) { store.removeItem(key); }
    }
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    form.addEventListener("outbox:saved", clear);
    // The server refused the values and the outbox gave the form back: keep a draft of it again.
    form.addEventListener("outbox:returned", function () { done = false; save(); });
    window.addEventListener("pagehide", function () { if (timer !== null) { window.clearTimeout(timer); save(); } });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && timer !== null) { window.clearTimeout(timer); save(); }
    });
    var discard = form.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        if (window.confirm("Discard the draft kept on this phone and start again from the saved page?")) {
          clear();
          window.location.reload();
        }
      });
    }
  }

  function start() {
    var store = storage();
    if (!store) { return; }
    document.querySelectorAll("[data-draft-clear]").forEach(function (el) {
      store.removeItem(fullKey(el.getAttribute("data-draft-clear")));
    });
    sweep(store);
    document.querySelectorAll("form[data-draft-key]").forEach(function (form) { init(form, store); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
