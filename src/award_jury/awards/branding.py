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


MAX_LOGO_BYTES = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
#: SVG elements a logo may use; everything else (script, foreignObject, style, image, …) is removed.
SVG_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "defs",
        "lineargradient",
        "radialgradient",
        "stop",
        "clippath",
        "mask",
        "symbol",
        "use",
        "title",
        "desc",
    }
)


def sniff_image(data: bytes) -> str | None:
    """The media type of a logo by its content (never by its name or the browser's word)."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _unsafe_attribute(name: str, value: str) -> bool:
    key = _local(name)
    compact = value.replace(" ", "").lower()
    refers_outside = any(not part.startswith("#") for part in compact.split("url(")[1:])
    return (
        key.startswith("on")
        or key == "style"
        or (key == "href" and not value.startswith("#"))
        or refers_outside
        or (name.startswith("{") and not name.startswith(f"{{{XLINK_NS}}}"))
    )


def sanitise_svg(data: bytes) -> bytes | None:
    """The SVG without scripts, event handlers, styles or references to anything outside it;
    None when it is not a well-formed SVG document (DTDs and entity tricks are refused)."""
    from xml.etree.ElementTree import Element, register_namespace, tostring

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None

    def clean(element: Element) -> None:
        for child in list(element):
            allowed = isinstance(child.tag, str) and child.tag.startswith(f"{{{SVG_NS}}}")
            if not allowed or _local(child.tag) not in SVG_ELEMENTS:
                element.remove(child)
                continue
            clean(child)
        for name in [n for n, v in element.attrib.items() if _unsafe_attribute(n, v)]:
            del element.attrib[name]

    clean(root)
    register_namespace("", SVG_NS)
    register_namespace("xlink", XLINK_NS)
    cleaned: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return cleaned


def check_logo(data: bytes) -> tuple[str, bytes] | str:
    """(media type, bytes to store), or a problem code: "too_large", "not_image", "bad_svg"."""
    if len(data) > MAX_LOGO_BYTES:
        return "too_large"
    media_type = sniff_image(data)
    if media_type is None:
        return "not_image"
    if media_type == "image/svg+xml":
        cleaned = sanitise_svg(data)
        return ("image/svg+xml", cleaned) if cleaned is not None else "bad_svg"
    if media_type == "image/png" and len(data) < 33:
        return "not_image"
    return media_type, data
