"""Beatport: page parsers (__NEXT_DATA__), matching SoundCloud uploads to
Beatport tracks, and Cloudflare challenge detection."""
