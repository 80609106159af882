"""Headless Chromium for the screenshot tests: a PNG of a page and its DOM after rendering.

Chromium is the Debian package (``scripts/bootstrap``); it runs with a throwaway profile and
without network, sync, GPU or first-run chores, so a page renders the same on every machine.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

__all__ = ["distinct_colours", "dump_dom", "png_size", "screenshot"]

_TIMEOUT = 120  # seconds; a cold Chromium start on a loaded 2-core machine takes ~10


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("chromium is not installed: run scripts/bootstrap (Debian package)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=True,
        )


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 1600) -> Path:
    """Render ``page`` (a local HTML file) and save a ``width``×``height`` PNG at ``png``."""
    _run(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri())
    return png


def dump_dom(page: Path) -> str:
    """The DOM of ``page`` after Chromium rendered it, serialised as HTML."""
    return _run("--dump-dom", page.resolve().as_uri()).stdout


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk (PNG spec §11.2.2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def distinct_colours(data: bytes, *, sample_rows: int = 200) -> int:
    """How many distinct RGB colours ``sample_rows`` evenly spread rows of the PNG hold.

    Uses Pillow when installed (WeasyPrint brings it), else decodes 8-bit RGB/RGBA PNGs here
    (zlib-inflated IDAT, filter types of PNG spec §9).
    """
    try:
        from io import BytesIO

        from PIL import Image

        img = Image.open(BytesIO(data)).convert("RGB")
        w, h = img.size
        step = max(1, h // sample_rows)
        pixels = img.load()
        assert pixels is not None
        return len({pixels[x, y] for y in range(0, h, step) for x in range(0, w, 4)})
    except ImportError:
        return _distinct_colours_raw(data, sample_rows)


def _distinct_colours_raw(data: bytes, sample_rows: int) -> int:
    width, height = png_size(data)
    depth, colour = data[24], data[25]
    assert depth == 8 and colour in (2, 6), "only 8-bit RGB/RGBA"
    bpp = 3 if colour == 2 else 4
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[bytes] = set()
    step = max(1, height // sample_rows)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        if y % step == 0:
            colours.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp * 4))
        prev = line
    return len(colours)
