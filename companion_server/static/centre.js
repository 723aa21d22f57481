// The call-back wait counts down on the case screen (no inline script: CSP script-src 'self').
// The server's time at rendering (data-now) corrects the browser's clock; the timer in the
// database starts the second round, and the page then updates itself (live.js).
(function () {
  "use strict";
  var offsets = new WeakMap();

  function tick() {
    var timers = document.querySelectorAll(".countdown[data-deadline]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      if (!offsets.has(el)) {
        offsets.set(el, Date.parse(el.getAttribute("data-now")) - Date.now());
      }
      var left = Math.round((Date.parse(el.getAttribute("data-deadline")) - (Date.now() + offsets.get(el))) / 1000);
      var text = left > 0
        ? Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2)
        : "0:00";
      if (el.textContent !== text) { el.textContent = text; }
    }
  }
  tick();
  window.setInterval(tick, 1000);
})();
