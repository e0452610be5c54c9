// App-wide behaviour, loaded on every page (no inline script: the CSP forbids it).
(function () {
  "use strict";
  // A stable id for this phone/browser, sent with every request so the audit log can say which device.
  var KEY = "itb.deviceId";
  var deviceId = null;
  try {
    deviceId = localStorage.getItem(KEY);
    if (!deviceId) {
      deviceId = (self.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      localStorage.setItem(KEY, deviceId);
    }
  } catch (e) { deviceId = null; }
  window.ITB = window.ITB || {};
  window.ITB.deviceId = deviceId;
  document.addEventListener("htmx:configRequest", function (evt) {
    if (deviceId) { evt.detail.headers["X-Device-Id"] = deviceId; }
  });
})();

// New trial form: ticking "Very small child" pre-selects the 25 mcg day-1 dose (clinical brief 1.5 DEFAULT,
// label: 25 mcg may be used first in very small children [S5][S6]). The team can still choose another dose.
document.addEventListener("change", function (evt) {
  "use strict";
  var box = evt.target;
  if (!box || box.name !== "small_child" || !box.form) { return; }
  var dose = box.form.querySelector('select[name="day1_dose_mcg"]');
  if (!dose) { return; }
  var wanted = box.checked ? box.dataset.smallDose : box.dataset.standardDose;  // from server/protocol.py
  if (dose.querySelector('option[value="' + wanted + '"]')) { dose.value = wanted; }
});

// Tables that do not fit their place (large text, a narrow phone) are shown as one card per row (CSS
// .table-cards), each value labelled with its column's heading; they are tables again once they fit. ARIA roles
// keep them tables for screen readers while they are drawn as cards.
(function () {
  "use strict";
  var ROLES = { TABLE: "table", THEAD: "rowgroup", TBODY: "rowgroup", TR: "row", TD: "cell" };
  function words(node) { return node.textContent.replace(/\s+/g, " ").trim(); }
  function label(table) {
    if (table.dataset.cardLabels || !table.tHead || !table.tHead.rows.length) { return; }
    table.dataset.cardLabels = "1";
    var columns = [];
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) { columns.push(words(cell)); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var at = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var span = cell.colSpan || 1;
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
            var names = columns.slice(at, at + span).filter(function (n, i, all) { return n && all.indexOf(n) === i; });
            cell.setAttribute("data-label", names.join(" / "));
          }
          at += span;
        });
      });
    });
  }
  function roles(table, on) {
    [table].concat(Array.prototype.slice.call(table.querySelectorAll("thead, tbody, tr, th, td"))).forEach(function (n) {
      var role = n.tagName === "TH" ? (n.getAttribute("scope") === "row" ? "rowheader" : "columnheader") : ROLES[n.tagName];
      if (on) { n.setAttribute("role", role); } else { n.removeAttribute("role"); }
    });
  }
  function fit(table) {
    var place = table.parentElement;
    if (!place || !table.offsetParent) { return; }  // hidden (a closed <details>): measured when opened
    var was = table.classList.contains("table-cards");
    table.classList.remove("table-cards");
    var cards = table.offsetWidth > place.clientWidth + 1;
    if (cards) { label(table); table.classList.add("table-cards"); }
    if (cards !== was) { roles(table, cards); }
  }
  function fitAll() { document.querySelectorAll("main table").forEach(fit); }
  var pending = null;
  function soon() {
    if (pending) { return; }
    pending = window.requestAnimationFrame(function () { pending = null; fitAll(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fitAll); } else { fitAll(); }
  window.addEventListener("resize", soon);
  document.addEventListener("toggle", soon, true);  // a <details> opened: its tables can be measured now
  document.addEventListener("htmx:afterSettle", soon);
})();

// A page or a part of one that the service worker served from its copy, for want of network (sw.js marks it
// with <template data-offline-copy>; sw.js serves one when the server does not answer within its timeout):
// a notice under the header with the copy's time, until fresh content replaces it. What was due then may be
// done or overdue now.
(function () {
  "use strict";
  function hm(date) {
    return ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
  }
  var pageIsCopy = false;
  function show(root) {
    // (A page whose content the phone itself holds, /outbox, is current whatever the network: no notice.)
    if (document.querySelector("[data-live-offline]")) { return; }
    var mark = root.querySelector ? root.querySelector("template[data-offline-copy]") : null;
    var notice = document.getElementById("offline-copy");
    if (root === document) { pageIsCopy = !!mark; }
    if (!mark) {
      // Fresh content in a fresh page (the ward's rows once the network is back): current again. In a page
      // that is itself a copy the notice stays: the rest of it is still old.
      if (notice && !pageIsCopy) { notice.remove(); }
      return;
    }
    var when = new Date(mark.getAttribute("data-offline-copy"));
    var main = document.getElementById("main");
    if (!main) { return; }
    if (!notice) {  // sticky under the header: in view however far the page is scrolled (or restored on reload)
      notice = document.createElement("p");
      notice.id = "offline-copy";
      notice.className = "offline-copy";
      notice.setAttribute("role", "status");
      main.insertBefore(notice, main.firstChild);
      place();
    }
    notice.textContent = "No connection to the server: this is the copy saved " +
      (isNaN(when) ? "earlier" : "at " + hm(when)) + ". What is due may have changed since; check before acting.";
  }
  // The notice sticks just below the header while the header itself sticks (not at large text sizes).
  function place() {
    var notice = document.getElementById("offline-copy");
    var header = document.querySelector("header.topbar");
    if (!notice || !header) { return; }
    var sticky = getComputedStyle(header).position === "sticky";
    notice.style.top = (sticky ? header.getBoundingClientRect().height : 0) + "px";
  }
  window.addEventListener("resize", place);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { show(document); });
  } else { show(document); }
  document.addEventListener("htmx:afterSwap", function (evt) { show(evt.detail.target || document); });
})();
