"""How Beatport's anti-bot check (Cloudflare's managed challenge) shows
itself: one rule for the anti-bot middleware (a blocked response) and the
spider (a challenge served with a 200 in place of the page)."""

from __future__ import annotations

from scrapy.http import Response

# Only the head is searched: the markers sit in the interstitial's <head>.
_HEAD_BYTES = 40_000


def is_challenge_page(body: bytes) -> bool:
    """Cloudflare's "Just a moment..." interstitial instead of the page: its
    title, or its challenge options object (``window._cf_chl_opt``).  Not
    "challenge-platform": Cloudflare's bot-detection script carries that path
    into ordinary pages too."""
    head = body[:_HEAD_BYTES]
    return b"<title>Just a moment" in head or b"_cf_chl_opt" in head


def cloudflare_challenge(response: Response) -> bool:
    """Cloudflare's managed challenge: marked with ``cf-mitigated:
    challenge``, or a 403/503 challenge page.  Cloudflare's plain 403s
    (blocked query, bad User-Agent) are not challenges: no browser gets past
    those."""
    if (response.headers.get("cf-mitigated") or b"").lower() == b"challenge":
        return True
    return response.status in (403, 503) and is_challenge_page(response.body)
