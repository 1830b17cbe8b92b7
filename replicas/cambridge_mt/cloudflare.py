"""Cloudflare's e-mail obfuscation as the replica writes it (cambridge-mt.md §2.4 [V]).

Written from the reference, not from the spider: ``data-cfemail`` is hex; its
first byte is the XOR key, every following byte is one byte of the address's
UTF-8 encoding XOR that key.  The visible text is ``[email&#160;protected]``.
"""

from __future__ import annotations

__all__ = ["cfemail_hex", "cfemail_key"]


def cfemail_key(address: str) -> int:
    """A key per address (deterministic, never 0 so no byte is left in clear;
    Cloudflare picks one at random per page)."""
    return 0x20 + sum(map(ord, address)) % 0xD0


def cfemail_hex(address: str, key: int) -> str:
    """The ``data-cfemail`` value hiding ``address`` under ``key`` (0–255)."""
    if not 0 <= key <= 0xFF:
        raise ValueError(f"a cfemail key is one byte, not {key}")
    return bytes([key, *(byte ^ key for byte in address.encode("utf-8"))]).hex()
