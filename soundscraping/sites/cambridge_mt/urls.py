"""Cambridge-MT's links: its own download hosts, which URLs are files and
which are mixes (a sharing service's page or a direct audio file).  The
settings' defaults come from here: CAMBRIDGE_MT_FILE_HOSTS is FILE_HOSTS,
MEDIA_STREAM_EXTENSIONS is LARGE_FILE_EXTENSIONS (one list each)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

# Hosts of Cambridge-MT's own downloads; any other host is an external download.
FILE_HOSTS: tuple[str, ...] = (
    "cambridge-mt.com", "cambridgemusictechnology.co.uk",
)
# Files too large to hold in memory (multitrack archives reach 2.2 GB;
# uncompressed and lossless audio): the default of MEDIA_STREAM_EXTENSIONS,
# the files the streaming pipeline takes.
LARGE_FILE_EXTENSIONS: tuple[str, ...] = (".zip", ".rar", ".7z", ".wav", ".aif", ".aiff", ".flac")
# Paths that are files (downloadable as such); others are pages (puremix
# video pages, archive.org details pages, ...).
FILE_EXTENSIONS = frozenset({*LARGE_FILE_EXTENSIONS, ".mp3", ".m4a", ".ogg"})
AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".flac", ".aif", ".aiff", ".m4a", ".ogg", ".opus", ".aac", ".wma"})
# File-sharing and streaming services mixes are posted on (pages, not files).
MIX_SERVICE_HOSTS: tuple[str, ...] = (
    "dropbox.com", "db.tt", "dropboxusercontent.com", "drive.google.com", "docs.google.com",
    "soundcloud.com", "snd.sc", "wetransfer.com", "we.tl",
)


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """``host`` is one of ``domains`` or a sub-domain of one (ports ignored
    unless the domain names one)."""
    host = host.lower()
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for domain in domains:
        domain = domain.lower()
        if host == domain or bare == domain or bare.endswith("." + domain):
            return True
    return False


def url_extension(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()


def url_filename(url: str) -> str | None:
    """The last path segment when it looks like a file name."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name if PurePosixPath(name).suffix and len(name) <= 255 else None


def is_file_url(url: str) -> bool:
    """A link to a file (ZIP, audio) rather than to a web page."""
    return url_extension(url) in FILE_EXTENSIONS



def is_mix_link(url: str) -> bool:
    """A link to a mix: a file-sharing/streaming service or a direct audio file."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    return host_matches(parts.netloc, MIX_SERVICE_HOSTS) or url_extension(url) in AUDIO_EXTENSIONS


def is_direct_audio(url: str) -> bool:
    """A direct link to an audio file (downloadable), not a sharing page."""
    parts = urlsplit(url)
    return (parts.scheme in ("http", "https") and url_extension(url) in AUDIO_EXTENSIONS
            and not host_matches(parts.netloc, MIX_SERVICE_HOSTS))
