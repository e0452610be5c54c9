/* Bedside helpers on the assessment form (the server checks everything again):
 * - range and number checks from data-min / data-max / data-decimals, with the server's own words
 *   (data-range-message, data-number-message) shown beside the field before saving;
 * - a ± key for angles that may be negative (a phone's decimal keypad often has no minus sign);
 * - the 10 m walking speed worked out as the time is typed.
 * (Each load of the form gets a fresh entry id from outbox-ui.js, like every outbox form.) */
(function () {
  "use strict";

  function parse(text) {
    var v = text.trim().replace(",", ".").replace("\u2212", "-");
    if (v === "") { return { empty: true }; }
    if (!/^-?\d+(\.\d+)?$/.test(v)) { return { bad: true }; }
    var dot = v.indexOf(".");
    var decimals = dot === -1 ? 0 : v.length - dot - 1;
    var value = parseFloat(v);
    if (decimals && Math.round(value) === value) { decimals = 0; }
    return { value: value, decimals: decimals };
  }

  function describedBy(input, id, on) {
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
      .filter(function (x) { return x !== id; });
    if (on) { ids.push(id); }
    if (ids.length) { input.setAttribute("aria-describedby", ids.join(" ")); }
    else { input.removeAttribute("aria-describedby"); }
  }

  function showError(input, message) {
    var id = input.id + "-client-error";
    var p = document.getElementById(id);
    if (!message) {
      if (p) { p.remove(); }
      describedBy(input, id, false);
      if (!document.getElementById(input.id + "-error")) { input.removeAttribute("aria-invalid"); }
      return;
    }
    if (!p) {
      p = document.createElement("p");
      p.className = "field-error";
      p.id = id;
      var row = input.closest(".num-row") || input;
      row.parentNode.insertBefore(p, row);
    }
    p.textContent = message;
    input.setAttribute("aria-invalid", "true");
    describedBy(input, id, true);
  }

  function check(input) {
    var r = parse(input.value);
    if (r.empty) { showError(input, ""); return true; }
    var min = parseFloat(input.dataset.min);
    var max = parseFloat(input.dataset.max);
    var allowed = parseInt(input.dataset.decimals || "0", 10);
    if (r.bad || r.decimals > allowed) { showError(input, input.dataset.numberMessage); return false; }
    if ((!isNaN(min) && r.value < min) || (!isNaN(max) && r.value > max)) {
      showError(input, input.dataset.rangeMessage);
      return false;
    }
    showError(input, "");
    // Fixed: the server's message from the last save no longer applies.
    var server = document.getElementById(input.id + "-error");
    if (server) {
      server.remove();
      describedBy(input, input.id + "-error", false);
      input.removeAttribute("aria-invalid");
    }
    return true;
  }

  function speed(input) {
    var out = document.getElementById(input.dataset.speedOutput);
    if (!out) { return; }
    var r = parse(input.value);
    out.textContent = (!r.empty && !r.bad && r.value > 0) ? "Speed " + (10 / r.value).toFixed(2) + " m/s" : "";
  }

  function init(form) {
    var numbers = form.querySelectorAll("input[data-min]");
    form.addEventListener("focusout", function (evt) {
      if (evt.target.matches && evt.target.matches("input[data-min]")) { check(evt.target); }
    });
    form.addEventListener("input", function (evt) {
      var t = evt.target;
      if (!t.matches || !t.matches("input[data-min]")) { return; }
      if (document.getElementById(t.id + "-client-error")) { check(t); }  // clear the message as soon as it is fixed
      if (t.dataset.speedOutput) { speed(t); }
    });
    numbers.forEach(function (input) { if (input.dataset.speedOutput) { speed(input); } });
    form.querySelectorAll("[data-sign-for]").forEach(function (btn) {
      var input = document.getElementById(btn.getAttribute("data-sign-for"));
      if (!input) { return; }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var v = input.value.trim().replace("\u2212", "-");
        input.value = v.charAt(0) === "-" ? v.slice(1) : "-" + v;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.focus();
      });
    });
  }

  function start() {
    document.querySelectorAll("form.assess").forEach(init);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
