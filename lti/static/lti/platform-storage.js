/* LTI Client Side postMessages + postMessage Storage (1EdTech, 2022): when the browser
   blocks the tool's cookies inside the LMS frame, the LMS keeps the login's state and
   nonce for the tool. Only used on that fallback path; with cookies no script runs. */
(function () {
  "use strict";
  var root = document.getElementById("lti-storage");
  if (!root) { return; }
  var mode = root.dataset.mode;
  var origin = root.dataset.origin;
  var targetName = root.dataset.target;
  var state = root.dataset.state;
  var nonce = root.dataset.nonce;
  var timeoutMs = 4000;

  function show(name) {
    ["waiting", "verified", "failed"].forEach(function (part) {
      var el = root.querySelector("[data-storage-" + part + "]");
      if (el) { el.hidden = part !== name; }
    });
  }

  function targetWindow() {
    // The storage frame is a sibling frame named by lti_storage_target, or the parent.
    var parent = window.parent;
    if (!parent || parent === window) { return null; }
    if (!targetName || targetName === "_parent") { return parent; }
    try { return parent.frames[targetName] || parent; } catch (e) { return parent; }
  }

  function send(subject, extra) {
    return new Promise(function (resolve, reject) {
      var win = targetWindow();
      if (!win) { reject(new Error("no platform frame")); return; }
      var id = subject + "-" + Math.random().toString(36).slice(2);
      var timer = setTimeout(function () {
        window.removeEventListener("message", onMessage);
        reject(new Error("timeout"));
      }, timeoutMs);
      function onMessage(event) {
        // Only the LMS's own origin may answer (spec: target origin = OIDC endpoint's).
        if (event.origin !== origin || !event.data || event.data.message_id !== id) { return; }
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        if (event.data.error) { reject(new Error(event.data.error.code || "error")); }
        else { resolve(event.data); }
      }
      window.addEventListener("message", onMessage);
      var message = Object.assign({ subject: subject, message_id: id }, extra);
      win.postMessage(message, origin);
    });
  }

  if (mode === "login") {
    Promise.all([
      send("lti.put_data", { key: "state_" + state, value: state }),
      send("lti.put_data", { key: "nonce_" + nonce, value: nonce })
    ]).then(function () {
      window.location.assign(root.dataset.next);
    }, function () { show("failed"); });
  } else if (mode === "launch") {
    Promise.all([
      send("lti.get_data", { key: "state_" + state }),
      send("lti.get_data", { key: "nonce_" + nonce })
    ]).then(function (answers) {
      if (answers[0].value === state && answers[1].value === nonce) {
        var ticket = root.querySelector("[data-ticket]");
        ticket.value = ticket.dataset.ticket;
        show("verified");
      } else { show("failed"); }
    }, function () { show("failed"); });
  }
})();
