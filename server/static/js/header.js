// The compact header: the sync state as a small badge that opens the full state on a tap (outbox-ui.js keeps
// writing into #sync-status as before; this only reads it), the menu, and the colour switch.
(function () {
  "use strict";
  var panel = document.getElementById("sync-status");
  var badge = document.getElementById("sync-badge");
  var live = document.getElementById("sync-live");
  var menu = document.getElementById("menu");

  // ---- sync badge ----
  function text(node) { return node ? node.textContent.replace(/\s+/g, " ").trim() : ""; }
  function setOpen(open) {
    if (!panel || !badge) { return; }
    panel.classList.toggle("is-open", open);
    badge.setAttribute("aria-expanded", open ? "true" : "false");
  }
  var urgentBefore = "";
  var saidBefore = "";
  function render() {
    var signin = panel.querySelector(".sync-signin");
    var attention = panel.querySelector(".sync-attention");
    var risk = panel.querySelector(".sync-risk");  // entries the browser may clear (waited too long): act now
    var count = text(panel.querySelector(".sync-count"));  // "● 2 on this phone" or "✓ Sent 10:07"
    var short;  // a symbol and a count: the badge must fit beside the brand, the menu and Sign out at 390 px
    var state = "quiet";
    if (signin) {
      short = "⚠ " + (text(signin).match(/\d+/) || [""])[0];
      state = "urgent";
    } else if (attention) {
      short = "! " + (text(attention).match(/\d+/) || [""])[0];
      state = "urgent";
    } else if (risk) {
      short = "! " + (text(risk).match(/\d+/) || [""])[0];
      state = "urgent";
    } else if (count.charAt(0) === "●") {
      short = "● " + (count.match(/\d+/) || [""])[0];
      state = "pending";
    } else if (count) {
      short = "✓";  // sent; the time is in the details
    } else {
      short = "⇅";
    }
    var whole = [text(signin), count, text(attention), text(risk), text(panel.querySelector(".sync-others"))]
      .filter(Boolean).join(". ");
    badge.hidden = !panel.childNodes.length;
    badge.dataset.state = state;
    badge.textContent = "";
    var seen = document.createElement("span");
    seen.setAttribute("aria-hidden", "true");
    seen.textContent = short;
    var heard = document.createElement("span");
    heard.className = "visually-hidden";
    // Never the words "sign in" in a button's name: the sign-in form's button is the one so called.
    heard.textContent = "Sync: " + (signin ? short.slice(2) + " waiting to be sent once you are signed in again"
      : (whole || "nothing waiting")) + ". Details";
    badge.appendChild(seen);
    badge.appendChild(heard);
    // Something the user must act on (sign in to send; entries needing attention or at risk of being cleared)
    // opens by itself, once.
    var urgent = text(signin) || text(attention) || text(risk);
    if (urgent && urgent !== urgentBefore) { setOpen(true); }
    if (!urgent && !panel.childNodes.length) { setOpen(false); }
    urgentBefore = urgent;
    if (live && whole !== saidBefore) { live.textContent = whole; saidBefore = whole; }
  }
  if (panel && badge) {
    badge.addEventListener("click", function () { setOpen(!panel.classList.contains("is-open")); });
    new MutationObserver(render).observe(panel, { childList: true, subtree: true, characterData: true });
    render();
  }

  // ---- menu: closes on Escape and on a tap elsewhere ----
  if (menu) {
    document.addEventListener("keydown", function (evt) {
      if (evt.key !== "Escape") { return; }
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      } else if (panel && panel.classList.contains("is-open")) {
        setOpen(false);
        badge.focus();
      }
    });
    document.addEventListener("click", function (evt) {
      if (menu.open && !menu.contains(evt.target)) { menu.open = false; }
    });
  }

  // ---- colours: as the phone, light or dark (theme.js applies and remembers) ----
  var current = window.ITB && window.ITB.theme ? window.ITB.theme() : "auto";
  document.querySelectorAll('input[name="theme"]').forEach(function (radio) {
    radio.checked = radio.value === current;
    radio.addEventListener("change", function () {
      if (radio.checked && window.ITB && window.ITB.setTheme) { window.ITB.setTheme(radio.value); }
    });
  });
})();
