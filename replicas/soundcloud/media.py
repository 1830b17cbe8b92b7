"""Tiny, dependency-free generators for the replica's CDN content.

* ``jpeg_bytes``: a real baseline JPEG (two flat colour bands) produced by a
  minimal encoder: flat 8x8 blocks only have a DC coefficient, so every block is
  "DC difference + end-of-block" and no DCT is needed.  No Pillow required.
* ``png_bytes``: a flat-colour PNG.
* ``js_chunk``: webpack-looking filler JavaScript (syntactically valid, never
  executes anything) with an optional module inserted near a given offset.
"""

from __future__ import annotations

import random
import struct
import zlib

__all__ = ["IMAGE_SIZES", "jpeg_bytes", "js_chunk", "png_bytes"]

# Size suffix -> square edge in pixels (yt-dlp's table; "original" is ours).
IMAGE_SIZES: dict[str, int] = {
    "large": 100, "t500x500": 500, "original": 640, "t300x300": 300, "crop": 400,
    "small": 32, "badge": 47, "tiny": 20, "mini": 16, "t67x67": 67, "t120x120": 120,
    "t200x200": 200,
}


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _dc_coefficients(rgb: tuple[int, int, int]) -> list[int]:
    r, g, b = (max(0, min(255, c)) for c in rgb)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    # DC of a flat level-shifted 8x8 block is 8 * (value - 128); quantiser = 1.
    return [round(8 * (max(0.0, min(255.0, c)) - 128)) for c in (y, cb, cr)]


def jpeg_bytes(width: int, height: int, top: tuple[int, int, int],
               bottom: tuple[int, int, int], comment: bytes = b"") -> bytes:
    """Baseline 4:4:4 JPEG: upper half ``top`` colour, lower half ``bottom``."""
    mcux, mcuy = (width + 7) // 8, (height + 7) // 8
    dc_top, dc_bottom = _dc_coefficients(top), _dc_coefficients(bottom)
    # DC Huffman table: categories 0..11, all 4-bit codes (code == category).
    # AC table: only end-of-block (symbol 0x00) with code "00".
    dht = (bytes([0x00]) + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12))
           + bytes([0x10]) + bytes([0, 1] + [0] * 14) + bytes([0x00]))
    bits: list[str] = []
    pred = [0, 0, 0]
    for row in range(mcuy):
        dcs = dc_top if row < mcuy // 2 or mcuy == 1 else dc_bottom
        for _ in range(mcux):
            for k in range(3):
                diff = dcs[k] - pred[k]
                pred[k] = dcs[k]
                cat = abs(diff).bit_length()
                code = format(cat, "04b")
                if cat:
                    extra = diff if diff > 0 else diff + (1 << cat) - 1
                    code += format(extra, f"0{cat}b")
                bits.append(code + "00")
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)  # pad with 1-bits
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i:i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)  # byte stuffing
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += _segment(0xFE, comment[:60000])
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    out += _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)
                    + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]))
    out += _segment(0xC4, dht)
    out += _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    out += data
    out += b"\xff\xd9"
    return bytes(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_bytes(width: int, height: int, rgb: tuple[int, int, int], comment: bytes = b"") -> bytes:
    """Flat-colour 8-bit RGB PNG."""
    row = b"\x00" + bytes(rgb) * width
    out = b"\x89PNG\r\n\x1a\n"
    out += _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if comment:
        out += _png_chunk(b"tEXt", b"Comment\x00" + comment)
    out += _png_chunk(b"IDAT", zlib.compress(row * height, 6))
    out += _png_chunk(b"IEND", b"")
    return out


_IDS = ["a", "b", "c", "d", "i", "l", "n", "o", "r", "s", "u", "f", "p", "h", "m", "g"]
_WORDS = ["track", "sound", "player", "queue", "waveform", "comment", "user", "stream",
          "playlist", "repost", "like", "follow", "upload", "station", "visual", "badge"]


def _module(rng: random.Random) -> str:
    ids = rng.choices(_IDS, k=4)
    w1, w2 = rng.choice(_WORDS), rng.choice(_WORDS)
    stmts = [
        f'var {ids[0]}=n({rng.randrange(1, 2500)}),{ids[1]}=n({rng.randrange(1, 2500)});',
        f'function {ids[2]}(e,t){{return e&&e.{w1}?e.{w1}(t,{rng.randrange(1000)}):t}}',
        f't.{w1}{rng.randrange(100)}=function(e){{return {ids[0]}(e)+{ids[1]}.{w2}}};',
        'Object.defineProperty(t,"__esModule",{value:!0});',
        f'var {ids[3]}="{w1}-{w2}-{rng.randrange(10**6):06d}";',
        f'e.exports={{name:"{w1}{w2.capitalize()}",get:function(e){{return e.{w2}Id}},client_id:e.clientId}};'
        if rng.random() < 0.03 else f'e.exports={ids[2]};',
    ]
    return 'function(e,t,n){"use strict";' + "".join(stmts) + "},"


def js_chunk(rng: random.Random, number: int, size: int, insert: str | None = None,
             insert_at: int = 0) -> bytes:
    """Filler webpack chunk of about ``size`` bytes; ``insert`` (a module) is
    placed at the first module boundary after ``insert_at`` characters."""
    parts = [f"(window.webpackJsonp=window.webpackJsonp||[]).push([[{number}],["]
    length = len(parts[0])
    pending = insert
    while length < size:
        if pending is not None and length >= insert_at:
            mod = pending + ","
            pending = None
        else:
            mod = _module(rng)
        parts.append(mod)
        length += len(mod)
    if pending is not None:
        parts.append(pending + ",")
    parts.append("]]);\n")
    return "".join(parts).encode("utf-8")
