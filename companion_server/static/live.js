// Live updates of an installation's pages (no inline script: CSP script-src 'self').
// The server sends a Server-Sent Event "changed" when new data arrives; the page fetches
// itself again and swaps the regions marked data-live (forms being typed in are left alone).
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource || !window.fetch) { return; }
  var busy = false;
  var again = false;
  var leaving = false;

  function ids(doc) {
    var found = doc.querySelectorAll("[data-live][id]");
    var result = [];
    for (var i = 0; i < found.length; i++) { result.push(found[i].id); }
    return result.join(",");
  }

  // A region where the user is typing in a form, or has an editor open, is left alone.
  function editing(region) {
    var active = document.activeElement;
    if (active && active.form && region.contains(active)) { return true; }
    return region.querySelector("details[open] form") !== null;
  }

  // Only what changed is swapped: a link being clicked meanwhile stays in the page.
  function swapIn(current, next) {
    if (current.outerHTML !== next.outerHTML) { current.replaceWith(document.importNode(next, true)); }
  }

  function replace(selector, fresh) {
    var current = document.querySelector(selector);
    var next = fresh.querySelector(selector);
    if (current && next) { swapIn(current, next); }
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    if (ids(document) !== ids(fresh)) {
      // A tab was locked or unlocked: its whole content changed.
      replace(".tabs-card", fresh);
    }
    // Then every live region (the customer card, the remote-service banner...).
    var regions = document.querySelectorAll("[data-live][id]");
    for (var i = 0; i < regions.length; i++) {
      var next = fresh.getElementById(regions[i].id);
      if (next && !editing(regions[i])) { swapIn(regions[i], next); }
    }
    replace("nav.tabs", fresh);
    document.body.setAttribute("data-live-updated", String(Date.now()));
  }

  function refresh() {
    if (leaving) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Update": "1" } })
      .then(function (response) {
        // 204: this page is no longer open to the visitor (say, the window closed).
        if (response.status === 204 && !leaving) {
          window.location.assign(root.getAttribute("data-live-home"));
        }
        return response.status === 200 ? response.text() : null;
      })
      .then(function (html) { if (html && !leaving) { swap(html); } })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource(root.getAttribute("data-live-url"));
  // A form sent or a link followed: that navigation wins over any update.
  window.addEventListener("beforeunload", function () { leaving = true; source.close(); });
  source.addEventListener("changed", refresh);
  // What changed before the stream was (re)opened was never announced: fetch it now.
  source.addEventListener("open", refresh);
})();
