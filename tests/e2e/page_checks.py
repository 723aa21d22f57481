"""What every page the browser tests visit must pass, at every screen size.

``problems(page)`` runs axe-core (WCAG 2.2 A/AA), checks that the document never scrolls
sideways, that the remote-service bar stays one line tall while collapsed, and, in one
script run, focuses every tab stop in tab order (scrolled into view as the browser does on
focus) checking that none is off screen or hidden under a fixed or sticky element. An empty
list means the page passed.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

VIEWPORTS: dict[str, dict[str, int]] = {
    "desktop": {"width": 1280, "height": 800},
    "tablet": {"width": 820, "height": 1180},
    "phone": {"width": 390, "height": 844},
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
MAX_TABS = 400

_AXE_SCRIPT: str = Axe().axe_script

# Every element the Tab key stops at, in its order, focused as Tab would (``focus()`` scrolls
# it into view the way the browser does on focus, scroll-padding included); then whether a
# fixed or sticky element paints over one of its points (its centre and four points just
# inside its corners). Tab order: positive tabindex first, ascending, then document order;
# one radio button per group (the checked one, else the first); an element that does not
# take the focus (disabled, hidden, inert, in a closed <details>) is no stop.
_COVERED_JS = """
(maxStops) => {
  const candidates = document.querySelectorAll(
    "a[href], area[href], button, input:not([type=hidden]), select, textarea, iframe, "
    + "summary, [tabindex], [contenteditable]:not([contenteditable=false])");
  const radioSeen = new Set();
  const radioChoice = (el) => {
    const scope = el.form || document;
    const group = Array.from(scope.querySelectorAll("input[type=radio]"))
      .filter((r) => r.name === el.name && r.form === el.form);
    return group.find((r) => r.checked) || group.find((r) => !r.disabled) || el;
  };
  const ordered = Array.from(candidates)
    .filter((el) => el.tabIndex >= 0)
    .map((el, index) => ({ el: el, index: index }))
    .sort((a, b) => {
      const ta = a.el.tabIndex > 0 ? a.el.tabIndex : Infinity;
      const tb = b.el.tabIndex > 0 ? b.el.tabIndex : Infinity;
      return ta === tb ? a.index - b.index : ta - tb;
    })
    .map((item) => item.el);
  const describe = (node) => node.tagName.toLowerCase()
    + (node.id ? "#" + node.id : "")
    + " '" + (node.getAttribute("aria-label") || node.textContent || node.value || "")
      .trim().replace(/\\s+/g, " ").slice(0, 40) + "'";
  const fixedAncestor = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const position = getComputedStyle(n).position;
      if (position === "fixed" || position === "sticky") { return n; }
    }
    return null;
  };
  const root = document.documentElement;
  const behaviour = root.style.scrollBehavior;
  root.style.scrollBehavior = "auto";  // focus scrolls at once, as a measured Tab press does
  if (document.activeElement) { document.activeElement.blur(); }
  window.scrollTo(0, 0);
  const found = [];
  let stops = 0;
  try {
    for (const el of ordered) {
      if (el.type === "radio" && el.name) {
        const key = (el.form ? "form:" : "doc:") + el.name;
        if (radioSeen.has(key) || radioChoice(el) !== el) { continue; }
        radioSeen.add(key);
      }
      el.focus();
      if (document.activeElement !== el) { continue; }
      stops += 1;
      if (stops > maxStops) { return { found: found, stops: stops }; }
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) { continue; }
      const inset = Math.min(3, r.width / 2, r.height / 2);
      const points = [
        [r.left + r.width / 2, r.top + r.height / 2],
        [r.left + inset, r.top + inset], [r.right - inset, r.top + inset],
        [r.left + inset, r.bottom - inset], [r.right - inset, r.bottom - inset],
      ];
      let seen = 0;
      let hidden = 0;
      let cover = null;
      for (const [x, y] of points) {
        if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) { continue; }
        seen += 1;
        const hit = document.elementFromPoint(x, y);
        if (!hit || hit === el || el.contains(hit) || hit.contains(el)) { continue; }
        const over = fixedAncestor(hit);
        if (over && !over.contains(el)) { hidden += 1; cover = over; }
      }
      // A control is never under the bar, not even in part; a region taller than half the
      // screen (a scrolling table) only must not be hidden entirely.
      const small = r.height < window.innerHeight / 2;
      if (hidden > 0 && (small || hidden === seen)) {
        found.push("focused " + describe(el) + " is covered by " + describe(cover));
      } else if (seen === 0) {
        found.push("focused " + describe(el) + " is off screen");
      }
    }
  } finally {
    if (document.activeElement) { document.activeElement.blur(); }
    root.style.scrollBehavior = behaviour;
  }
  return { found: found, stops: stops };
}
"""

# The remote-service bar, when it is a sticky bar: its rows (one expected) and its height.
_BAR_JS = """
() => {
  const bar = document.querySelector("[data-remote-bar]");
  if (!bar || bar.offsetParent === null) { return null; }
  const panel = document.querySelector("[data-remote-details]");
  // Children side by side share a row: a child starting below the row's bottom opens another.
  const boxes = Array.from(bar.children).map((c) => c.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0).sort((a, b) => a.top - b.top);
  let rows = 0;
  let bottom = -Infinity;
  for (const r of boxes) {
    if (r.top >= bottom - 1) { rows += 1; bottom = r.bottom; }
    else { bottom = Math.max(bottom, r.bottom); }
  }
  const banner = bar.closest("[data-remote]");
  return {
    rows: rows,
    height: banner.getBoundingClientRect().height,
    collapsed: !panel || panel.hidden,
  };
}
"""

MAX_BAR_HEIGHT = 64  # one 44 px row, its padding and the border


def axe_violations(page: Page) -> list[str]:
    """The WCAG 2.2 A/AA violations axe-core finds, one line per rule."""
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "resultTypes": ["violations"],
    }
    # At the end of the page the sticky bar sits below everything: axe's target-size rule
    # would otherwise count a row the bar happens to overlap at the top of the page as
    # obscured (whether focus ever lands under the bar is what covered_focus checks).
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    # axe-core (half a megabyte) is parsed once per loaded page, not once per check.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_AXE_SCRIPT)
    violations = page.evaluate("(options) => axe.run(options).then((r) => r.violations)", options)
    return [
        f"axe {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations
    ]


def horizontal_overflow(page: Page) -> list[str]:
    """The document must not be wider than the window."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return [] if width[0] <= width[1] else [f"the document is {width[0]} px wide in {width[1]}"]


def banner_height(page: Page) -> list[str]:
    """A collapsed remote-service bar is one line tall."""
    bar = page.evaluate(_BAR_JS)
    if bar is None or not bar["collapsed"]:
        return []
    if bar["rows"] != 1 or bar["height"] > MAX_BAR_HEIGHT:
        return [f"the collapsed remote-service bar has {bar['rows']} rows, {bar['height']} px"]
    return []


def covered_focus(page: Page) -> list[str]:
    """Every tab stop, focused in turn, is on screen and not under a fixed or sticky element."""
    state = page.evaluate(_COVERED_JS, MAX_TABS)
    found: list[str] = state["found"]
    if state["stops"] > MAX_TABS:
        found.append(f"more than {MAX_TABS} tab stops")
    return found


def problems(page: Page) -> list[str]:
    """Every check of this module, on the page as it is now."""
    # A click on a link returns before the next document exists; check the loaded one.
    page.wait_for_load_state("load")
    return [
        *axe_violations(page),
        *horizontal_overflow(page),
        *banner_height(page),
        *covered_focus(page),
    ]
