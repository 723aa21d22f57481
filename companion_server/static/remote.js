// Remote service (no inline script: CSP script-src 'self').
// - The banner counts the window's time left down from the server's "until" (corrected by
//   the offset between the server's and the browser's clocks); at the end the controls
//   disappear at once (the server refuses them anyway, and the next live update confirms).
// - The QR-code field of the add-remote wizard: a 2D reader types the code and presses Enter.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var counters = document.querySelectorAll(".countdown[data-until]");
    for (var i = 0; i < counters.length; i++) {
      var el = counters[i];
      if (el.skew === undefined) {
        var serverNow = Date.parse(el.getAttribute("data-now"));
        el.skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
      }
      var until = Date.parse(el.getAttribute("data-until"));
      var left = Math.max(0, Math.floor((until - (Date.now() + el.skew)) / 1000));
      if (left <= 0) {
        el.textContent = el.getAttribute("data-ended-text") || "0:00:00";
        el.removeAttribute("data-until");
        var banner = el.closest("[data-remote]");
        if (banner) { banner.setAttribute("data-remote", "ended"); }
        var controls = document.querySelectorAll("[data-remote-controls], details.pencil, td.params");
        for (var j = 0; j < controls.length; j++) { controls[j].hidden = true; }
        continue;
      }
      var text = Math.floor(left / 3600) + ":" + pad(Math.floor(left % 3600 / 60)) + ":" + pad(left % 60);
      if (el.textContent !== text) { el.textContent = text; }
    }
  }

  tick();
  window.setInterval(tick, 1000);

  // The scan field: keep the focus there so that the next scan lands in it.
  var scan = document.querySelector("[data-scan]");
  if (scan) {
    scan.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // A reader ends with Enter: submit only when a product is chosen, else move on.
        var form = scan.form;
        if (form && !form.querySelector("input[name=devices]:checked")) {
          event.preventDefault();
          var first = form.querySelector("input[name=devices]");
          if (first) { first.focus(); }
        }
      }
    });
  }
})();
