"""How SoundCloud's anti-bot check (DataDome) shows itself; the settings'
ANTIBOT_PROFILES name this detector."""

from __future__ import annotations

from scrapy.http import Response


def datadome_block(response: Response) -> bool:
    """SoundCloud's DataDome block: 403 with an ``x-datadome`` header."""
    return response.status == 403 and bool(response.headers.get("x-datadome"))
