"""Every soundscraping setting, documented in one place.

Each value can be overridden on the command line (``-s NAME=VALUE``), through
Scrapyd's ``schedule.json`` (``setting=NAME=VALUE``) or, for the ones read with
``_env``, through an environment variable of the same name.  Defaults point at
the real sites; the test-suite points them at the local replicas.
"""

from __future__ import annotations

import os


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


BOT_NAME = "soundscraping"
SPIDER_MODULES = ["soundscraping.spiders"]
NEWSPIDER_MODULE = "soundscraping.spiders"
# `scrapy crawl` exits 1 when a crawl ends on a failure (see commands/crawl.py).
COMMANDS_MODULE = "soundscraping.commands"

# --- Sites -------------------------------------------------------------------
# Base URLs.  Absolute URLs found in responses (next_href, asset scripts,
# images) are followed as given, so only the entry points live here.
SOUNDCLOUD_URL = _env("SOUNDCLOUD_URL", "https://soundcloud.com")
SOUNDCLOUD_API_URL = _env("SOUNDCLOUD_API_URL", "https://api-v2.soundcloud.com")
# A known-good public web client_id skips discovery (it is still refreshed
# once on a 401/403 if it turns out to be stale).
SOUNDCLOUD_CLIENT_ID = _env("SOUNDCLOUD_CLIENT_ID")
# Page size for every paged api-v2 endpoint; 200 is the API's maximum.
SOUNDCLOUD_PAGE_SIZE = 200
# How many times a browser may be used to pass the anti-bot (DataDome) check
# in one crawl before the crawler stops trying and reports it.
SOUNDCLOUD_ANTIBOT_MAX_SOLVES = 5
# Seconds the browser waits for the anti-bot script to hand out its cookie.
SOUNDCLOUD_ANTIBOT_TIMEOUT = 30
# DJ-set rule: a track is a DJ set when it lasts at least
# SOUNDCLOUD_DJ_SET_MIN_MINUTES, or at least SOUNDCLOUD_DJ_SET_KEYWORD_MIN_MINUTES
# and its title, genre or tags contain one of SOUNDCLOUD_DJ_SET_KEYWORDS
# (whole words, case-insensitive).
SOUNDCLOUD_DJ_SET_MIN_MINUTES = 30
SOUNDCLOUD_DJ_SET_KEYWORD_MIN_MINUTES = 12
SOUNDCLOUD_DJ_SET_KEYWORDS = [
    "mix", "mixed", "dj set", "dj-set", "djset", "live set", "live at", "podcast",
    "mixtape", "b2b", "boiler room", "radio show", "guest mix", "set",
]

# Community graph (soundcloud_graph): interaction weights for the visit
# priority (an account's score = sum of the weights of the interactions it
# received from visited accounts), accounts visited at once (each visit reads
# four lists), and how often progress is logged (seconds).
GRAPH_WEIGHTS = {"like": 1, "repost": 3, "follow": 3, "comment": 3}
GRAPH_CONCURRENT_ACCOUNTS = 8
GRAPH_PROGRESS_INTERVAL = 30

# --- Beatport (beatport_tracks) -------------------------------------------------
BEATPORT_URL = _env("BEATPORT_URL", "https://www.beatport.com")

# --- Cambridge-MT (cambridge_mt, cambridge_forum) --------------------------------
CAMBRIDGE_MT_URL = _env("CAMBRIDGE_MT_URL", "https://www.cambridge-mt.com/ms3/mtk/")
CAMBRIDGE_FORUM_URL = _env("CAMBRIDGE_FORUM_URL", "https://discussion.cambridge-mt.com")
CAMBRIDGE_FORUM_ROOT_FID = 184

# --- Storage -------------------------------------------------------------------
# sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3 or
# postgresql://user[:password]@host:port/dbname.  Tables are created on first use.
DATABASE_URL = _env("DATABASE_URL", "sqlite:///data/soundscraping.sqlite3")
# Set to False to parse without storing (the benchmark's baseline).
STORAGE_ENABLED = True
# Rows buffered before one batched upsert (per flush, all tables together).
STORAGE_BATCH_SIZE = 2000
# A failing flush is retried this many times with exponential back-off
# (1 s, 2 s, 4 s, ...) before the crawl is stopped with reason
# "database_unavailable"; unsaved rows are then written to STORAGE_UNSAVED_DIR.
STORAGE_RETRY_TIMES = 5
STORAGE_UNSAVED_DIR = _env("STORAGE_UNSAVED_DIR", "data/unsaved")

# --- Media ---------------------------------------------------------------------
# Local folder or s3://bucket/prefix/ (trailing slash required).  S3 uses
# AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION_NAME.
MEDIA_ENABLED = True
FILES_STORE = _env("FILES_STORE", "data/files")
AWS_ENDPOINT_URL = _env("AWS_ENDPOINT_URL")
AWS_ACCESS_KEY_ID = _env("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = _env("AWS_SECRET_ACCESS_KEY")
AWS_REGION_NAME = _env("AWS_REGION_NAME", _env("AWS_DEFAULT_REGION"))
# Image hosts answer with redirects to CDNs.
MEDIA_ALLOW_REDIRECTS = True
# Files already in the store and younger than this are not fetched again.
FILES_EXPIRES = 90

# --- Pipelines, middlewares, extensions -----------------------------------------
ITEM_PIPELINES = {
    "soundscraping.pipelines.ValidatePipeline": 100,
    "soundscraping.pipelines.DedupePipeline": 200,
    "soundscraping.media.MediaFilesPipeline": 300,
    "soundscraping.pipelines.StorePipeline": 900,
}
DOWNLOADER_MIDDLEWARES = {
    # Replaced by BackoffRetryMiddleware (same settings, plus back-off).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "soundscraping.middlewares.BackoffRetryMiddleware": 550,
    # Below decompression (590) and redirects (600): they see final, decoded
    # responses; the client-id check runs before the anti-bot one.
    "soundscraping.middlewares.AntiBotBrowserMiddleware": 560,
    "soundscraping.middlewares.SoundCloudClientIdMiddleware": 570,
}
# API crawls need no depth accounting or URL-length filter; each spider
# middleware costs work on every one of ~10^5 items.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}
EXTENSIONS = {
    # Only active with JOBDIR: recovers safely from a crawl that was killed.
    "soundscraping.extensions.JobDirGuard": 0,
    # Only active with STATS_FILE: final stats as JSON.
    "soundscraping.extensions.StatsFile": 10,
    # Loggers skip records below LOG_LEVEL instead of building and discarding
    # one per item (Scrapy's handler filters only after the record exists).
    "soundscraping.extensions.LogLevelGate": 20,
}
# Where StatsFile writes the final stats (JSON); empty = off.
STATS_FILE = _env("STATS_FILE")

# --- Politeness and retries -------------------------------------------------------
ROBOTSTXT_OBEY = False  # api-v2 publishes none; soundcloud.com allows everything.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 soundscraping/0.1 (research crawler)"
)
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Back-off between retries: min(RETRY_BACKOFF_MAX, RETRY_BACKOFF_BASE * 2**n)
# seconds with +-25% jitter.  A 429 also slows the whole host down
# (its download slot delay doubles, then decays on successes).
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
COOKIES_ENABLED = True

# --- Browser (scrapy-playwright, only for requests with meta["playwright"]) ------
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": _env("CHROMIUM_PATH", "/usr/bin/chromium"),
    "headless": True,
    "timeout": 30_000,
    "args": [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
}
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 1
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER = True
# Let Chromium send its own headers: a browser that looks like one passes.
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = None

# --- Engine -------------------------------------------------------------------------
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = _env("LOG_LEVEL", "INFO")
# Items of one response processed in parallel.  Pipelines rarely wait (only
# for media), and each parallel slot costs a task per response.
CONCURRENT_ITEMS = 16
LOGSTATS_INTERVAL = 30.0
# Callbacks retry malformed pages with get_retry_request, which keeps the
# retry counter on purpose.
META_COPY_WARN_SKIP_KEYS = ["retry_times"]
