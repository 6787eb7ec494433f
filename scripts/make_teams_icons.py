"""Draws the Teams app icons (run once; the PNGs are committed): a full-colour 192×192 and a 32×32
outline that must be white on a transparent background, as Teams requires."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parents[1] / "adapters" / "teams" / "manifest"  # where the package ships them
ACCENT = (79, 107, 237, 255)  # #4F6BED, also the manifest's accentColor
WHITE = (255, 255, 255, 255)


def _glyph(draw: ImageDraw.ImageDraw, size: int, width: int) -> None:
    """Two linked rings: two people meeting."""
    r = size * 0.22
    cy = size / 2
    for cx in (size * 0.38, size * 0.62):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=WHITE, width=width)


def color_icon(path: Path) -> None:
    scale = 4  # draw large, then downsample for smooth edges
    size = 192 * scale
    image = Image.new("RGBA", (size, size), ACCENT)
    _glyph(ImageDraw.Draw(image), size, width=14 * scale)
    image.resize((192, 192), Image.LANCZOS).save(path, optimize=True)


def outline_icon(path: Path) -> None:
    size = 32
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    _glyph(ImageDraw.Draw(image), size, width=2)
    image.save(path, optimize=True)


if __name__ == "__main__":
    color_icon(HERE / "color.png")
    outline_icon(HERE / "outline.png")
