// Remote service (no inline script: CSP script-src 'self').
// - The banner counts the window's time left down from the server's "until" (corrected by
//   the offset between the server's and the browser's clocks); at the end the controls
//   disappear at once (the server refuses them anyway, and the next live update confirms).
// - The bar of an open window is one line; "Details" opens the rest (remembered for the
//   installation while the tab is open). The page keeps what is focused clear of the bar.
// - The QR-code field of the add-remote wizard: a 2D reader types the code and presses Enter.
(function () {
  "use strict";

  var memory = "remote-details:" + window.location.pathname.split("/").slice(0, 3).join("/");

  function remember(expanded) {
    try { window.sessionStorage.setItem(memory, expanded ? "1" : ""); } catch (e) { /* private mode */ }
  }

  function remembered() {
    try { return window.sessionStorage.getItem(memory) === "1"; } catch (e) { return false; }
  }

  function setExpanded(button, expanded) {
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", expanded ? "true" : "false");
    if (panel) { panel.hidden = !expanded; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".remote-toggle");
    if (!button) { return; }
    var expanded = button.getAttribute("aria-expanded") !== "true";
    setExpanded(button, expanded);
    remember(expanded);
  });

  // Whatever gets the focus scrolls clear of the bar: scroll-padding-bottom follows its height.
  function followBar() {
    var banner = document.querySelector('.remote-banner[data-remote="open"]');
    var height = banner ? banner.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--remote-bar-height", Math.ceil(height + 8) + "px");
  }

  // Browsers leave an element that is already on screen where it is when it gets the focus,
  // even under the bar (scroll-padding only counts when they scroll): lift it clear.
  document.addEventListener("focusin", function (event) {
    var banner = document.querySelector('.remote-banner[data-remote="open"]');
    var target = event.target;
    if (!banner || !target.getBoundingClientRect || banner.contains(target)) { return; }
    var hidden = target.getBoundingClientRect().bottom - banner.getBoundingClientRect().top;
    if (hidden > 0) { window.scrollBy(0, hidden + 8); }
  });

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region && text && region.textContent !== text) { region.textContent = text; }
  }

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
        announce(el.getAttribute("data-ended-text"));
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

  var toggle = document.querySelector(".remote-toggle");
  if (toggle && remembered()) { setExpanded(toggle, true); }
  followBar();
  if (window.ResizeObserver) {
    new window.ResizeObserver(followBar).observe(document.body);
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
