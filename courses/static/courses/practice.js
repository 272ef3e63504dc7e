/* Guided practice: a countdown with Start / Pause and spoken phase changes.
   Progressive enhancement only: without this file the page shows the same practice as
   text, a CSS animation and a pause checkbox, and the learner goes on when ready. */
(function () {
  "use strict";
  function format(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function setUp(box) {
    var total = parseInt(box.getAttribute("data-duration"), 10) || 60;
    var phases = [];
    try { phases = JSON.parse(box.getAttribute("data-phases") || "[]"); } catch (e) { phases = []; }
    var cycle = phases.reduce(function (sum, p) { return sum + p.seconds; }, 0);
    var panel = box.querySelector(".practice-js");
    var left = box.querySelector("[data-left]");
    var phaseOut = box.querySelector("[data-phase]");
    var toggle = box.querySelector("[data-toggle]");
    var remaining = total, timer = null, lastPhase = null;
    box.classList.add("js-on");
    panel.hidden = false;

    function phaseAt(elapsed) {
      if (!cycle) { return null; }
      var t = elapsed % cycle;
      for (var i = 0; i < phases.length; i++) {
        if (t < phases[i].seconds) { return phases[i].label; }
        t -= phases[i].seconds;
      }
      return null;
    }
    function announce(text) { phaseOut.textContent = text; }
    function tick() {
      remaining -= 1;
      left.textContent = format(Math.max(remaining, 0));
      var phase = phaseAt(total - remaining);
      if (phase && phase !== lastPhase) { announce(phase); lastPhase = phase; }
      if (remaining <= 0) {
        stop();
        toggle.textContent = "Start again";
        remaining = total;
        announce("Time is up. Go on when you are ready.");
      }
    }
    function stop() {
      window.clearInterval(timer);
      timer = null;
      box.classList.remove("running");
    }
    toggle.addEventListener("click", function () {
      if (timer) {
        stop();
        toggle.textContent = "Resume";
        announce("Paused.");
        return;
      }
      box.classList.add("running");
      toggle.textContent = "Pause";
      lastPhase = phaseAt(total - remaining);
      announce(lastPhase || "Started.");
      timer = window.setInterval(tick, 1000);
    });
  }
  document.querySelectorAll("[data-practice]").forEach(setUp);
})();
