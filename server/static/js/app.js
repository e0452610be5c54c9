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
