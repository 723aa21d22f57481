// Live updates of an installation's pages (no inline script: CSP script-src 'self').
// The server sends a Server-Sent Event "changed" when new data arrives; the page fetches
// itself again and brings the regions marked data-live up to date node by node: only what
// changed is touched, so the focused control, a half-read table or an open panel stay as
// they are (forms being typed in are left alone). What a region says with data-announce is
// read out by the polite live region #announcer when it changes.
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

  // What pairs an old node with its new version: the id, else the first data-* attribute
  // (a row's data-device, a cell's data-label...), else the tag name (in order).
  function keyOf(node) {
    if (node.nodeType !== 1) { return "#" + node.nodeType; }
    if (node.id) { return "#" + node.id; }
    for (var i = 0; i < node.attributes.length; i++) {
      var attr = node.attributes[i];
      if (attr.name.indexOf("data-") === 0 && attr.name !== "data-live-keep") {
        return node.nodeName + "[" + attr.name + "=" + attr.value + "]";
      }
    }
    return node.nodeName;
  }

  // Attributes the user changed (an open editor, an expanded panel) keep their value.
  function kept(node, name) {
    if (name === "open" && node.nodeName === "DETAILS") { return true; }
    var keep = node.getAttribute("data-live-keep");
    return keep !== null && (" " + keep + " ").indexOf(" " + name + " ") >= 0;
  }

  function morphAttributes(current, next) {
    var i, attr;
    for (i = 0; i < next.attributes.length; i++) {
      attr = next.attributes[i];
      if (!kept(current, attr.name) && current.getAttribute(attr.name) !== attr.value) {
        current.setAttribute(attr.name, attr.value);
      }
    }
    for (i = current.attributes.length - 1; i >= 0; i--) {
      attr = current.attributes[i];
      if (!next.hasAttribute(attr.name) && !kept(current, attr.name)) {
        current.removeAttribute(attr.name);
      }
    }
  }

  function morph(current, next) {
    if (current.nodeType !== 1) {
      if (current.nodeValue !== next.nodeValue) { current.nodeValue = next.nodeValue; }
      return;
    }
    morphAttributes(current, next);
    var pool = {};
    var child, key;
    for (child = current.firstChild; child; child = child.nextSibling) {
      key = keyOf(child);
      (pool[key] = pool[key] || []).push(child);
    }
    var place = current.firstChild;
    for (var fresh = next.firstChild; fresh; fresh = fresh.nextSibling) {
      var list = pool[keyOf(fresh)];
      var match = list && list.length ? list.shift() : null;
      if (match) { morph(match, fresh); } else { match = document.importNode(fresh, true); }
      if (match === place) {
        place = place.nextSibling;
      } else {
        current.insertBefore(match, place);
      }
    }
    for (key in pool) {
      if (Object.prototype.hasOwnProperty.call(pool, key)) {
        for (var j = 0; j < pool[key].length; j++) { current.removeChild(pool[key][j]); }
      }
    }
  }

  function announcements() {
    var found = document.querySelectorAll("[data-announce][id]");
    var result = {};
    for (var i = 0; i < found.length; i++) { result[found[i].id] = found[i].getAttribute("data-announce"); }
    return result;
  }

  function announce(before) {
    var now = announcements();
    var said = [];
    for (var id in now) {
      if (Object.prototype.hasOwnProperty.call(now, id) && now[id] && now[id] !== before[id]) {
        said.push(now[id]);
      }
    }
    var region = document.getElementById("announcer");
    var text = said.join(" ");
    if (region && text && region.textContent !== text) { region.textContent = text; }
  }

  // A focused element moved within its region (a row sorted elsewhere) loses the focus:
  // give it back, without scrolling.
  function restoreFocus(active) {
    if (!active || active === document.body || document.activeElement === active) { return; }
    var target = active.isConnected ? active : (active.id && document.getElementById(active.id));
    if (target && typeof target.focus === "function") { target.focus({ preventScroll: true }); }
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var active = document.activeElement;
    var before = announcements();
    if (ids(document) !== ids(fresh)) {
      // A tab was locked or unlocked: its whole content changed.
      var card = document.querySelector(".tabs-card");
      var nextCard = fresh.querySelector(".tabs-card");
      if (card && nextCard) { morph(card, nextCard); }
    }
    // Then every live region (the customer card, the remote-service banner...).
    var regions = document.querySelectorAll("[data-live][id]");
    for (var i = 0; i < regions.length; i++) {
      var next = fresh.getElementById(regions[i].id);
      if (next && !editing(regions[i])) { morph(regions[i], next); }
    }
    var tabs = document.querySelector("nav.tabs");
    var nextTabs = fresh.querySelector("nav.tabs");
    if (tabs && nextTabs) { morph(tabs, nextTabs); }
    restoreFocus(active);
    announce(before);
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
