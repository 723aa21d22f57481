"""The integration's own brand images, which Home Assistant serves from ``brand/`` (2026.3+).

Home Assistant's brands rules: PNG, an icon 256x256 and its hDPI version 512x512, a
transparent background, trimmed (the drawing reaches the edges of its longer side). No logo
is shipped: Home Assistant falls back to the icon for it and for the dark variants. Pillow
comes with Home Assistant.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
import pytest

BRAND = Path(__file__).parents[2] / "custom_components" / "somfy_pro" / "brand"
SIZES = {"icon.png": 256, "icon@2x.png": 512}
# The names Home Assistant serves from a custom integration's brand directory.
SERVED = {
    f"{dark}{kind}{scale}.png"
    for dark in ("", "dark_")
    for kind in ("icon", "logo")
    for scale in ("", "@2x")
}


def test_only_served_names() -> None:
    names = {path.name for path in BRAND.iterdir()}
    assert set(SIZES) <= names <= SERVED


@pytest.mark.parametrize(("name", "size"), SIZES.items())
def test_icon(name: str, size: int) -> None:
    with Image.open(BRAND / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.size == (size, size)
        alpha = image.getchannel("A")
        corners = [(0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1)]
        assert all(alpha.getpixel(corner) == 0 for corner in corners), "background not transparent"
        left, top, right, bottom = alpha.point(lambda a: 255 if a > 8 else 0).getbbox() or (0,) * 4
        assert (top, bottom) == (0, size) or (left, right) == (0, size), "not trimmed"
