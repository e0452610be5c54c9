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
