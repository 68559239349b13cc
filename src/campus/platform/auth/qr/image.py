"""The QR code as inline SVG, drawn here with segno: no image service sees the challenge."""

from __future__ import annotations

import segno


def qr_svg(url: str) -> str:
    """An SVG that scales with its container (a viewBox, no fixed size) on a white quiet zone."""
    code = segno.make(url, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="campus-qr-svg"
    )
    return svg
