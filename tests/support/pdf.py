"""Reading generated PDFs back: text, fonts, PDF/A metadata, and page 1 as pixels."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader


def reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in reader(data).pages]


def fonts(data: bytes) -> dict[str, bool]:
    """Every font used on any page -> whether its file is embedded."""
    found: dict[str, bool] = {}
    for page in reader(data).pages:
        for ref in page["/Resources"]["/Font"].values():
            font: Any = ref.get_object()
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = described["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def xmp(data: bytes) -> str:
    root: Any = reader(data).trailer["/Root"]
    return str(root["/Metadata"].get_object().get_data().decode("utf-8"))


def catalog(data: bytes) -> Any:
    return reader(data).trailer["/Root"]


def ink_ratio(data: bytes, page: int = 0) -> float:
    """Share of non-white pixels of a page rendered at 40 dpi (0.0 means a blank page)."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        image = pdf[page].render(scale=40 / 72).to_pil().convert("L")
        histogram = image.histogram()  # 256 counts of grey levels
        return sum(histogram[:200]) / (image.width * image.height)
    finally:
        pdf.close()
