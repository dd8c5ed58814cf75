"""Chart SVG as a PNG at print resolution, for documents that take only images (the Word write-up).

WeasyPrint (already the PDF engine) lays the SVG out on a page of exactly its size, with the same
fonts as the PDF — Noto CJK where the 公文 fonts are absent, so Chinese text stays text until the
last step — and pdfium (pypdfium2, a self-contained wheel) rasterises that page. No browser, and
nothing else to install. The SVG is sanitised first: it is drawn from case text.
"""

from __future__ import annotations

import io
import re

PRINT_DPI = 200  # sharp on paper at the size the write-up prints a chart (150 mm wide)
_VIEWBOX = re.compile(r'viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"')


def svg_aspect(svg: str) -> float:
    """Height over width of an SVG, from its viewBox (charts always have one)."""
    m = _VIEWBOX.search(svg)
    if m is None or float(m.group(1)) <= 0:
        raise ValueError("an SVG without a usable viewBox cannot be sized")
    return float(m.group(2)) / float(m.group(1))


def svg_png(svg: str, width_mm: float = 150.0, dpi: int = PRINT_DPI) -> bytes:
    """The SVG drawn ``width_mm`` wide as PNG bytes at ``dpi``."""
    import pypdfium2 as pdfium
    from markupsafe import Markup
    from weasyprint import HTML

    from .sanitize import sanitize_svg

    clean = sanitize_svg(svg)
    height_mm = width_mm * svg_aspect(clean)
    page = Markup("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><style>"
                  "@page {{ size: {w:.2f}mm {h:.2f}mm; margin: 0 }} html, body {{ margin: 0 }}"
                  " svg {{ display: block; width: {w:.2f}mm; height: {h:.2f}mm }}"
                  "</style></head><body>{svg}</body></html>").format(w=width_mm, h=height_mm, svg=Markup(clean))
    pdf = pdfium.PdfDocument(HTML(string=str(page)).write_pdf())
    try:
        image = pdf[0].render(scale=dpi / 72).to_pil()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, dpi=(dpi, dpi))
    return out.getvalue()
