// Light or dark colours, before the page is drawn (loaded without defer in <head>, so a dark ward never flashes
// white). The choice is kept on this phone ("itb.theme": "light" or "dark"; none = as the phone's own setting,
// prefers-color-scheme, followed live). header.js offers the switch and calls ITB.setTheme.
(function () {
  "use strict";
  var KEY = "itb.theme";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var unsaved = null;  // the choice, where this browser keeps nothing (storage blocked)
  function chosen() {
    try { return localStorage.getItem(KEY); } catch (e) { return unsaved; }
  }
  function apply() {
    var pick = chosen();
    var dark = pick === "dark" || (pick !== "light" && !!query && query.matches);
    document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
    var meta = document.querySelector('meta[name="theme-color"]');
    if (meta && meta.dataset.dark) { meta.setAttribute("content", dark ? meta.dataset.dark : meta.dataset.light); }
  }
  apply();
  if (query && query.addEventListener) { query.addEventListener("change", apply); }
  document.addEventListener("DOMContentLoaded", apply);  // the theme-color meta comes after this script
  window.ITB = window.ITB || {};
  window.ITB.theme = function () { return chosen() === "light" || chosen() === "dark" ? chosen() : "auto"; };
  window.ITB.setTheme = function (value) {
    var pick = value === "light" || value === "dark" ? value : null;
    unsaved = pick;
    try {
      if (pick) { localStorage.setItem(KEY, pick); } else { localStorage.removeItem(KEY); }
    } catch (e) { /* storage blocked: this page only */ }
    apply();
  };
})();
