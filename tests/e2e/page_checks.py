"""What every page the browser tests visit must pass, at every screen size.

``problems(page)`` runs axe-core (WCAG 2.2 A/AA), checks that the document never scrolls
sideways, that the remote-service bar stays one line tall while collapsed, and tabs through
the whole page checking that no focused element is hidden under a fixed or sticky element.
An empty list means the page passed.
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

_axe = Axe()

# The focused element, and whatever fixed or sticky element paints over one of its points
# (its centre and four points just inside its corners).
_COVERED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) { return null; }
  window.__tabbed = window.__tabbed || new WeakSet();
  const again = window.__tabbed.has(el);
  window.__tabbed.add(el);
  const describe = (node) => node.tagName.toLowerCase()
    + (node.id ? "#" + node.id : "")
    + " '" + (node.getAttribute("aria-label") || node.textContent || node.value || "")
      .trim().replace(/\\s+/g, " ").slice(0, 40) + "'";
  const r = el.getBoundingClientRect();
  const result = { again: again, what: describe(el), covered: null, offscreen: false };
  if (r.width === 0 && r.height === 0) { return result; }
  const fixedAncestor = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const position = getComputedStyle(n).position;
      if (position === "fixed" || position === "sticky") { return n; }
    }
    return null;
  };
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
    const found = fixedAncestor(hit);
    if (found && !found.contains(el)) { hidden += 1; cover = found; }
  }
  // A control is never under the bar, not even in part; a region taller than half the
  // screen (a scrolling table) only must not be hidden entirely.
  const small = r.height < window.innerHeight / 2;
  if (hidden > 0 && (small || hidden === seen)) { result.covered = describe(cover); }
  result.offscreen = seen === 0;
  return result;
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
    results = _axe.run(page, options=options)
    return [
        f"axe {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
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
    """Tab through the page: every focused element is on screen and not under a fixed one."""
    page.evaluate("window.__tabbed = new WeakSet(); document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    found: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = page.evaluate(_COVERED_JS)
        if state is None:
            continue
        if state["again"]:
            return found
        if state["covered"]:
            found.append(f"focused {state['what']} is covered by {state['covered']}")
        elif state["offscreen"]:
            found.append(f"focused {state['what']} is off screen")
    return [*found, f"more than {MAX_TABS} tab stops"]


def problems(page: Page) -> list[str]:
    """Every check of this module, on the page as it is now."""
    return [
        *axe_violations(page),
        *horizontal_overflow(page),
        *banner_height(page),
        *covered_focus(page),
    ]
