"""What every SoundCloud replica host shares: the recorded response headers, JSON
text as api-v2 writes it, URN ids, the home page's chunk layout."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any
from urllib.parse import unquote

API_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "private, max-age=0",
    "Referrer-Policy": "no-referrer",
    "Server": "am/2",
    "Strict-Transport-Security": "max-age=63072000",
    "Vary": "Origin",
    "Via": "1.1 cb2b840821313909da7f7890ec5606ba.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Pop": "HAM50-P5",
    "X-Cache": "Miss from cloudfront",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}

CDN_HEADERS = {
    "Accept-Ranges": "bytes",
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Max-Age": "3000",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Last-Modified": "Thu, 09 Apr 2026 10:34:45 GMT",
    "Server": "AmazonS3",
    "Via": "1.1 71ff222bb7fa47dbd8b33d41c7ea1ce6.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Pop": "MAD56-P1",
    "X-Cache": "Hit from cloudfront",
}

# Chunk numbers in page order: two in the body top, then the late group.  The
# client_id config module lives in the second-to-last chunk ("one of the last").
HEAD_CHUNKS = (58, 56)

LATE_FIRST = 18

LATE_CHUNKS = (57, 2, 0, 1, 55, 54)

CHUNK_RE = re.compile(r"^(\d+)-([0-9a-f]{8})\.js$")

def json_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

def parse_id(raw: str, kind: str) -> int | None:
    """Numeric id, also accepting the URN form ``soundcloud:<kind>:<id>``."""
    raw = unquote(raw)
    prefix = f"soundcloud:{kind}:"
    if raw.startswith(prefix):
        raw = raw[len(prefix):]
    return int(raw) if raw.isdigit() else None

def cf_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(42)).decode()[:54] + "=="
