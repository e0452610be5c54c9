// Handing a parent link over (templates/parents/_links.html): Copy (Clipboard API, or select the text and copy
// it the old way), Share (the Web Share API, shown only where the phone has it) and Print the card.
// Loaded by the trial page; the link block arrives later by htmx, so the handlers are delegated.
(function () {
  "use strict";

  function say(text) {
    var status = document.querySelector("[data-copy-status]");
    if (status) { status.textContent = text; }
  }

  function selectText(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }

  function copyByHand(field) {
    // Older browsers, or a page not served over HTTPS: select the text; execCommand may still copy it.
    selectText(field);
    var copied;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    say(copied ? "Link copied." : "The link is selected: copy it with your phone's Copy.");
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say("Link copied.");
      }, function () { copyByHand(field); });
    } else {
      copyByHand(field);
    }
  }

  function revealShare(root) {
    if (typeof navigator.share !== "function") { return; }
    var buttons = (root || document).querySelectorAll("[data-share-link]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].hidden = false; }
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy-link], [data-share-link], [data-print-card]") : null;
    if (!button) { return; }
    if (button.hasAttribute("data-print-card")) { window.print(); return; }
    var field = document.getElementById(button.getAttribute("data-copy-link") || button.getAttribute("data-share-link"));
    if (!field) { return; }
    if (button.hasAttribute("data-copy-link")) { copy(field); return; }
    navigator.share({ title: button.getAttribute("data-share-title") || document.title, url: field.value })
      .catch(function () { /* closed without sharing: nothing to do */ });
  });

  document.addEventListener("htmx:load", function (evt) { revealShare(evt.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { revealShare(document); });
  } else {
    revealShare(document);
  }
})();
