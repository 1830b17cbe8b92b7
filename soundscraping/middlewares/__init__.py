"""Downloader middlewares, one module each: ``retry`` (back-off, Retry-After),
``throttle`` (request budgets, holds and the one owner of host delays),
``client_id`` (SoundCloud's api-v2 key), ``antibot`` (impersonated TLS, then
a browser pass) and ``cookies`` (one browser-like jar)."""
