"""The catalog's progress as a picture: one bar per release year, imported against TMDb's total,
coloured by the year's status. A small PNG written with the standard library (zlib), shown in the
Dagster UI as a markdown image with a data: URI.

Why this shape: Dagster 1.13's UI renders a markdown metadata value inline only while it is under
1,000 characters (longer ones hide behind "[Show Markdown]"), and its markdown allows data: image
sources. An SVG with a rectangle per year runs to ~10 KB; a paletted PNG whose rows mostly repeat
compresses to a few hundred bytes, so the picture shows where people look, on the asset's page.

Reading it: years run left (1874) to right (this year); a bar's full height is TMDb's total for the
year on a log scale (1 movie to 40,000 differ by four orders of magnitude), its solid part the share
imported, its pale part what is still missing; a year TMDb has no total for yet is a short stub.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Sequence

from cinegraph_assets.reporting.progress import STATUSES, YearRow

BAR_WIDTH = 3  # pixels per bar, plus GAP between bars
GAP = 1
HEIGHT = 100
#: Dagster 1.13 shows a markdown value inline only below this many characters.
INLINE_LIMIT = 1000
#: Lower pictures compress smaller: tried in turn until the markdown fits INLINE_LIMIT (a catalog
#: imported in contiguous blocks of years fits at full height; a patchwork of statuses may not).
HEIGHTS = (HEIGHT, 60, 40)
STUB = 3  # pixels of a year without a TMDb total (never discovered, or nothing that year)
#: Status colours (RGB), as in most dashboards: green done, amber partway, blue busy, red failed.
COLOURS = {
    "complete": (42, 157, 143),
    "partial": (233, 180, 76),
    "running": (69, 123, 157),
    "failed": (230, 57, 70),
    "pending": (173, 181, 189),
}
LEGEND = ("One bar per release year, oldest left; height: TMDb's total (log scale), solid: imported. "
          "Green complete, amber partial, blue running, red failed, grey pending.")


#: The part of a bar not imported yet: the status colour, paler.
PALE_COLOURS = {status: tuple(round(c + (255 - c) * 0.65) for c in rgb) for status, rgb in COLOURS.items()}

# Palette: 0 transparent background, then each status solid and pale.
_PALETTE = [(255, 255, 255)] + [COLOURS[s] for s in STATUSES] + [PALE_COLOURS[s] for s in STATUSES]
_SOLID = {status: 1 + i for i, status in enumerate(STATUSES)}
_PALE = {status: 1 + len(STATUSES) + i for i, status in enumerate(STATUSES)}


def bar_heights(rows: Sequence[YearRow], height: int = HEIGHT) -> list[tuple[int, int]]:
    """(total height, imported height) in pixels of each row's bar, in the rows' order."""
    largest = max((row.tmdb_total for row in rows), default=0)
    scale = math.log10(largest + 1) if largest else 1.0
    heights = []
    for row in rows:
        if row.tmdb_total <= 0:
            heights.append((STUB, STUB if row.imported or row.status == "complete" else 0))
            continue
        total = max(STUB, round(height * math.log10(row.tmdb_total + 1) / scale))
        share = min(row.imported, row.tmdb_total) / row.tmdb_total
        heights.append((total, round(total * share)))
    return heights


def raster(rows: Sequence[YearRow], height: int = HEIGHT) -> list[list[int]]:
    """Palette indices, top row first: the oldest year's bar at the left."""
    ordered = sorted(rows, key=lambda row: row.year)
    width = len(ordered) * (BAR_WIDTH + GAP)
    pixels = [[0] * width for _ in range(height)]
    for i, (row, (total, imported)) in enumerate(zip(ordered, bar_heights(ordered, height))):
        for y in range(height - total, height):
            colour = _SOLID[row.status] if y >= height - imported else _PALE[row.status]
            for x in range(i * (BAR_WIDTH + GAP), i * (BAR_WIDTH + GAP) + BAR_WIDTH):
                pixels[y][x] = colour
    return pixels


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels: list[list[int]]) -> bytes:
    """A paletted PNG of `pixels` (indices into the palette; index 0 is transparent)."""
    height, width = len(pixels), len(pixels[0]) if pixels else 0
    previous = [0] * width
    scanlines = bytearray()
    for line in pixels:
        # Filter "Up": a row equal to the one above becomes zeros, which is most rows here.
        scanlines += b"\x02" + bytes((value - above) & 0xFF for value, above in zip(line, previous))
        previous = line
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
        _chunk(b"PLTE", b"".join(bytes(rgb) for rgb in _PALETTE)),
        _chunk(b"tRNS", b"\x00"),
        _chunk(b"IDAT", zlib.compress(bytes(scanlines), 9)),
        _chunk(b"IEND", b""),
    ])


def progress_picture_markdown(rows: Sequence[YearRow]) -> str:
    """The picture as a markdown image with a data: URI (see the module for why)."""
    if not rows:
        return "(no release years yet)"
    first, last = min(row.year for row in rows), max(row.year for row in rows)
    for height in HEIGHTS:
        encoded = base64.b64encode(png(raster(rows, height))).decode("ascii")
        markdown = f"![Catalog progress {first}-{last}](data:image/png;base64,{encoded})"
        if len(markdown) < INLINE_LIMIT:
            break
    return markdown  # the lowest one even if still too long: then behind "[Show Markdown]"
