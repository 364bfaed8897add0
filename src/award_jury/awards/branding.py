"""Award colours that stay readable (WCAG 2.1 contrast)."""

from __future__ import annotations

DEFAULT_BRAND = "#0b5394"


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``."""
    return "#ffffff" if contrast(background, "#ffffff") >= contrast(background, "#111111") else "#111111"
