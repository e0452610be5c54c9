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
