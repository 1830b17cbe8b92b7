"""Every soundscraping setting, documented in one place.

Each value can be overridden on the command line (``-s NAME=VALUE``), through
Scrapyd's ``schedule.json`` (``setting=NAME=VALUE``) or, for the ones read with
``_env``, through an environment variable of the same name.  Defaults point at
the real sites; the test-suite points them at the local replicas.
"""

from __future__ import annotations

import os

from soundscraping.monitoring.schemas import validation_schemas
from soundscraping.sites.cambridge_mt.urls import FILE_HOSTS, LARGE_FILE_EXTENSIONS
from soundscraping.sites.soundcloud.frontier import INTERACTION_WEIGHTS


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
# Re-crawls (-a recrawl_after=...): a track whose counts are hidden (null)
# cannot show that it has new comments, so its comments are looked at again
# only when its stored row is older than this (a duration: 30d, 12h, ...);
# until then its row is kept.  Tracks with visible counts are looked at when
# their comment_count changed (soundscraping/sites/soundcloud/recrawl.py).
SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER = "30d"

# Community graph (soundcloud_graph): interaction weights for the visit
# priority (an account's score = sum of the weights of the interactions it
# received from visited accounts), accounts visited at once (each visit reads
# four lists), and how often progress is logged (seconds).  GRAPH_WEIGHTS is
# the one definition of the weights: `soundscraping map` scores with it too
# (its --*-weight defaults; see soundscraping.storage.graph_queries).
GRAPH_WEIGHTS = dict(INTERACTION_WEIGHTS)  # like 1, repost 3, follow 3, comment 3
GRAPH_CONCURRENT_ACCOUNTS = 8
GRAPH_PROGRESS_INTERVAL = 30

# --- Beatport (beatport_tracks) -------------------------------------------------
BEATPORT_URL = _env("BEATPORT_URL", "https://www.beatport.com")
# A stored SoundCloud track is searched again once its last search (matched
# or not, beatport_matches.searched_at) is older than this many days; 0 = never.
BEATPORT_RESEARCH_DAYS = 180
# A candidate is accepted when it passes every gate (title, artists, version)
# and its score (0-1: title 0.40, artists 0.30, version 0.25, duration 0.05)
# is at least this; otherwise the track is recorded as no_match.
BEATPORT_MATCH_THRESHOLD = 0.75
# Results read per search (/search/tracks?per-page=; the site allows up to 150).
BEATPORT_SEARCH_PER_PAGE = 25
# Politeness: beatport_tracks runs with this delay between requests to one
# host (randomised 0.5-1.5x) and this many requests at a time per host; the
# site publishes no limit, tools that last pace themselves at ~1 request/s.
BEATPORT_DOWNLOAD_DELAY = 1.5
BEATPORT_CONCURRENT_REQUESTS = 1
# Browser passes of Cloudflare's challenge per crawl (a cf_clearance lasts
# 30 min to a few hours, then the site challenges again), and how long the
# browser may take to earn one (seconds).
BEATPORT_ANTIBOT_MAX_SOLVES = 10
BEATPORT_ANTIBOT_TIMEOUT = 30

# Impersonated TLS (soundscraping.impersonation): requests to the hosts of
# ANTIBOT_PROFILES go out with a current Chrome's TLS and HTTP/2 fingerprint
# through curl_cffi; DataDome lets that through without a browser.  False =
# Scrapy's own TLS (then only a browser pass can help, and DataDome refuses
# a non-browser handshake whatever cookie it carries).
IMPERSONATE_ENABLED = True
# curl_cffi target: "chrome" = the newest Chrome the installed curl_cffi
# knows (yt-dlp: any Chrome target older than chrome116 is refused).
IMPERSONATE_BROWSER = "chrome"
# An extra CA certificate file (PEM) the impersonated path trusts besides
# the usual bundle (certifi), e.g. a test CA or a TLS-inspecting proxy's.
TLS_CA_BUNDLE = _env("TLS_CA_BUNDLE")

# Anti-bot challenge profiles for AntiBotBrowserMiddleware (both sites share
# one mechanism).  Per site: ``detect`` (a function of the response: is this
# the challenge?), ``hosts`` (settings naming the sites whose requests carry
# the earned cookie), ``page`` (setting naming the page the browser opens;
# None = the blocked URL itself), ``cookie`` (what proves the pass),
# ``same_user_agent`` (later requests send the browser's User-Agent:
# cf_clearance is bound to it), ``hold_requests`` (the site's requests wait
# while a browser passes), ``max_solves`` and ``timeout`` (settings).
ANTIBOT_PROFILES = {
    # api-v2's DataDome: 403 + x-datadome; the web site's script issues the cookie.
    "soundcloud": {
        "detect": "soundscraping.sites.soundcloud.antibot.datadome_block",
        "hosts": ["SOUNDCLOUD_API_URL"],
        "page": "SOUNDCLOUD_URL",
        "cookie": "datadome",
        "same_user_agent": False,
        "max_solves": "SOUNDCLOUD_ANTIBOT_MAX_SOLVES",
        "timeout": "SOUNDCLOUD_ANTIBOT_TIMEOUT",
    },
    # Cloudflare's managed challenge: 403 "Just a moment..." on the page itself.
    "beatport": {
        "detect": "soundscraping.sites.beatport.antibot.cloudflare_challenge",
        "hosts": ["BEATPORT_URL"],
        "page": None,
        "cookie": "cf_clearance",
        "same_user_agent": True,
        "hold_requests": True,  # every page is challenged: wait for the pass
        "max_solves": "BEATPORT_ANTIBOT_MAX_SOLVES",
        "timeout": "BEATPORT_ANTIBOT_TIMEOUT",
    },
}

# --- Cambridge-MT (cambridge_mt, cambridge_forum) --------------------------------
CAMBRIDGE_MT_URL = _env("CAMBRIDGE_MT_URL", "https://www.cambridge-mt.com/ms3/mtk/")
CAMBRIDGE_FORUM_URL = _env("CAMBRIDGE_FORUM_URL", "https://discussion.cambridge-mt.com")
CAMBRIDGE_FORUM_ROOT_FID = 184
# Hosts of Cambridge-MT's own downloads (a host matches itself and its
# sub-domains; host:port entries match exactly).  A multitrack anywhere else
# (zenodo, archive.org, puremix) marks the song external_download.
CAMBRIDGE_MT_FILE_HOSTS = list(FILE_HOSTS)  # cambridge-mt.com, cambridgemusictechnology.co.uk
# The forum answers HTTP 400 to bursts until a ~30 s pause.  cambridge_forum
# fetches one page at a time with CAMBRIDGE_FORUM_DELAY seconds between
# requests (randomised 0.5x-1.5x); a 400 or 5xx holds the host for at least
# CAMBRIDGE_FORUM_BACKOFF seconds (doubling while errors go on, at most
# CAMBRIDGE_FORUM_BACKOFF_MAX, easing off by 10% with each success) and the
# page is retried.  400 is retryable for this spider only.
CAMBRIDGE_FORUM_DELAY = 2.0
# Hosts (their URL settings) that get one request at a time from the whole
# crawl: Scrapy's pages and the streamed files (soundscraping.host_gate).  The
# forum's attachments (mixes) are streamed from the forum itself.
ONE_AT_A_TIME_HOSTS = ["CAMBRIDGE_FORUM_URL"]
CAMBRIDGE_FORUM_BACKOFF = 30.0
CAMBRIDGE_FORUM_BACKOFF_MAX = 300.0
# The board's time zone (dates are shown without one; guests see the board
# default).  Relative dates ("Yesterday", "8 hours ago") are resolved with it
# against the server's Date header.
CAMBRIDGE_FORUM_TIMEZONE = "UTC"

# Large files (soundscraping.media.streaming.StreamingFilesPipeline): file_urls whose
# path ends in one of these are streamed to FILES_STORE in chunks instead of
# being held in memory by FilesPipeline (multitrack ZIPs reach 2.2 GB).
MEDIA_STREAM_EXTENSIONS = list(LARGE_FILE_EXTENSIONS)  # .zip .rar .7z .wav .aif .aiff .flac
# Files streamed at a time (each on a worker thread), and the least time
# between two requests to one host.
MEDIA_STREAM_CONCURRENCY = 2
MEDIA_STREAM_HOST_DELAY = 1.0
# Read size; memory per download is about one chunk.
MEDIA_STREAM_CHUNK_KB = 1024
# Part files (resumed with Range by the next attempt or the next crawl).
# Default: <FILES_STORE>/.partial for a local store, data/partial for S3.
MEDIA_STREAM_TEMP_DIR = _env("MEDIA_STREAM_TEMP_DIR")
# Retries of one file (connection lost, 5xx, 400, 429) with back-off
# (RETRY_BACKOFF_BASE/MAX); each retry continues where the last one stopped.
MEDIA_STREAM_RETRY_TIMES = 10
MEDIA_STREAM_TIMEOUT = 60  # seconds without a byte before a read fails
# S3 multipart upload: part size (MB, at least 5) and parts sent at a time.
MEDIA_STREAM_PART_SIZE_MB = 16
MEDIA_STREAM_UPLOAD_THREADS = 4

# --- Storage -------------------------------------------------------------------
# sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3 or
# postgresql://user[:password]@host:port/dbname.  Tables are created on first use.
DATABASE_URL = _env("DATABASE_URL", "sqlite:///data/soundscraping.sqlite3")
# Set to False to parse without storing (the benchmark's baseline).
STORAGE_ENABLED = True
# Rows buffered before one batched upsert (per flush, all tables together).
STORAGE_BATCH_SIZE = 2000
# The longest a row waits in memory (seconds): a flush also starts once the
# oldest buffered row is this old, so a killed crawl loses at most this much.
# 0 = flush on size only.
STORAGE_FLUSH_SECONDS = 5.0
# A failing flush is retried this many times with exponential back-off
# (1 s, 2 s, 4 s, ...) before the crawl is stopped with reason
# "database_unavailable"; unsaved rows are then written to STORAGE_UNSAVED_DIR.
# Rows the database rejects (bad value, constraint) are written there too; a
# crawl that could not store every row ends "rows_not_saved" (exit 1) and its
# last log line gives the count and the file.
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
    # spidermon's JSON Schema validation (SPIDERMON_VALIDATION_SCHEMAS), on a sample.
    "soundscraping.monitoring.validation.SampledItemValidationPipeline": 210,
    # Large files (Cambridge-MT ZIPs, WAVs) streamed to disk/S3 before
    # FilesPipeline takes the small ones (see soundscraping/media/).
    "soundscraping.media.streaming.StreamingFilesPipeline": 250,
    "soundscraping.media.files.MediaFilesPipeline": 300,
    "soundscraping.pipelines.StorePipeline": 900,
}
DOWNLOADER_MIDDLEWARES = {
    # Replaced by BackoffRetryMiddleware (same settings, plus back-off).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "soundscraping.middlewares.retry.BackoffRetryMiddleware": 550,
    # Below decompression (590) and redirects (600): they see final, decoded
    # responses; the client-id check runs before the anti-bot one.
    "soundscraping.middlewares.antibot.AntiBotBrowserMiddleware": 560,
    "soundscraping.middlewares.client_id.SoundCloudClientIdMiddleware": 570,
    # One jar kept as a browser keeps it (browser passes put their cookies
    # in it; Set-Cookies replace them): Scrapy's own is replaced.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "soundscraping.middlewares.cookies.BrowserCookiesMiddleware": 700,
    # After the client_id is final (budgets are per client_id): request
    # budgets and Retry-After holds (soundscraping/middlewares/throttle.py).
    "soundscraping.middlewares.throttle.ThrottleMiddleware": 580,
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
    # Closes a crawl that is stuck (see WATCHDOG_SECONDS); the periodic
    # monitor reads its clock of the last item.
    "soundscraping.watchdog.Watchdog": 30,
    # Monitors (see "Monitoring" below).  Before StatsFile: the stats file
    # and the exit code see the monitors' verdict.
    # spidermon's extension (soundscraping/monitoring/compat.py: logs as Scrapy 2.18 asks)
    "soundscraping.monitoring.compat.Spidermon": 5,
    "soundscraping.monitoring.coverage.CoverageCounter": 6,
}
# No response and no item for this many seconds: the crawl is closed with
# reason "stalled" (exit 1).  0 = off.
WATCHDOG_SECONDS = 300
# Where StatsFile writes the final stats (JSON); empty = off.
STATS_FILE = _env("STATS_FILE")

# --- Distributed mode (soundscraping.distributed) ------------------------------
# With REDIS_URL set (redis://host:6379/0), every `scrapy crawl` started with
# the same arguments shares one job: scrapy-redis schedules and dupefilters,
# the units (graph accounts, artists, Beatport searches, forum lists and
# threads) are claimed from Redis with leases.
REDIS_URL = _env("REDIS_URL")
# All of a job's keys are under REDIS_KEY_PREFIX:<spider>: (one job per prefix).
REDIS_KEY_PREFIX = _env("REDIS_KEY_PREFIX", "soundscraping")
# A lease not renewed for this long is expired: its unit goes back to the
# queue (its worker died).  Renewed every third of it while the unit is worked on.
DISTRIBUTED_LEASE_SECONDS = 120
# How often a worker renews, looks for expired leases and claims more work.
DISTRIBUTED_POLL_SECONDS = 1.0
# Units a worker holds at once (artists, searches, forum lists and threads;
# the graph: GRAPH_CONCURRENT_ACCOUNTS).
DISTRIBUTED_UNITS_IN_HAND = 4
# Who holds a lease (default host:pid).
DISTRIBUTED_WORKER_ID = _env("DISTRIBUTED_WORKER_ID")

# --- Monitoring (spidermon; soundscraping/monitoring/, README "Monitoring") --------
# On for every spider: a job is judged when it closes (CloseSuite), watched
# while it runs (PeriodicSuite), and reported.  A failed monitor = exit 1.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["soundscraping.monitoring.monitors.CloseSuite"]
# suite -> seconds between runs
SPIDERMON_PERIODIC_MONITORS = {"soundscraping.monitoring.monitors.PeriodicSuite": 60}
# Least item_scraped_count per spider ("*" = the others).  beatport_tracks
# may rightly find nothing left to search.
MONITOR_MIN_ITEMS = {"*": 1, "beatport_tracks": 0}
# Ceilings, as shares of downloader/request_count: errors (no answer, 5xx),
# bans (MONITOR_BAN_HTTP_CODES) and retries.
MONITOR_MAX_ERROR_SHARE = 0.1
MONITOR_BAN_HTTP_CODES = [403, 429]
MONITOR_MAX_BAN_SHARE = 0.25
MONITOR_MAX_RETRY_SHARE = 0.25
# Field coverage: "table.column" -> least share of the crawl's rows with a
# value, NULLs the site sent itself (hidden stats...) left out (monitoring/coverage.py).
MONITOR_FIELD_COVERAGE = {
    "soundcloud_tracks.playback_count": 0.95,
    "soundcloud_comments.timestamp_ms": 0.95,
    "beatport_tracks.bpm": 0.95,
    "beatport_tracks.key_name": 0.95,
    "cmt_forum_posts.author": 0.95,
    "cmt_forum_posts.posted_at": 0.95,
}
# Counted by monitoring.coverage.CoverageCounter for the ruled columns only (None
# is empty, 0 / False / "" are values); spidermon's every-field count costs too
# much CPU at 10^5 items.
SPIDERMON_ADD_FIELD_COVERAGE = False
# Item validation: JSON Schemas generated from the item classes (never written
# out); items that fail are kept (and counted), the monitor judges the share.
SPIDERMON_VALIDATION_SCHEMAS = validation_schemas()
SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS = False
MONITOR_VALIDATION_EVERY = 10  # check one item in N of each class (1 = all)
MONITOR_MAX_VALIDATION_ERROR_SHARE = 0.0
# Periodic monitor: no new item for this long fails the crawl, which is closed
# as "no_new_items" (exit 1); 0 = off.  The watchdog (WATCHDOG_SECONDS) keeps the clock.
MONITOR_NO_ITEM_SECONDS = 1800
# Each job's report: <dir>/<spider>-<start time>[-<job>].html and .json.
MONITOR_REPORT_DIR = _env("MONITOR_REPORT_DIR", "data/reports")
# Alerts when a monitor fails (the `alerts` extra: slack-sdk, premailer).  Off
# by default; secrets come only from the environment.
MONITOR_SLACK_ENABLED = False
SPIDERMON_SLACK_SENDER_TOKEN = _env("SPIDERMON_SLACK_SENDER_TOKEN")
SPIDERMON_SLACK_SENDER_NAME = _env("SPIDERMON_SLACK_SENDER_NAME", "soundscraping")
SPIDERMON_SLACK_RECIPIENTS = [r for r in (_env("SPIDERMON_SLACK_RECIPIENTS") or "").split(",") if r]
MONITOR_EMAIL_ENABLED = False
SPIDERMON_SMTP_HOST = _env("SPIDERMON_SMTP_HOST")
SPIDERMON_SMTP_PORT = int(_env("SPIDERMON_SMTP_PORT", "587") or 587)
SPIDERMON_SMTP_USER = _env("SPIDERMON_SMTP_USER")
SPIDERMON_SMTP_PASSWORD = _env("SPIDERMON_SMTP_PASSWORD")
SPIDERMON_SMTP_ENFORCE_TLS = True
SPIDERMON_EMAIL_SENDER = _env("SPIDERMON_EMAIL_SENDER")
SPIDERMON_EMAIL_TO = [r for r in (_env("SPIDERMON_EMAIL_TO") or "").split(",") if r]
SPIDERMON_EMAIL_SUBJECT = "soundscraping: monitors failed for {{ data.spider.name }}"

# --- Politeness and retries -------------------------------------------------------
ROBOTSTXT_OBEY = False  # api-v2 publishes none; soundcloud.com allows everything.
# Where site operators can learn about the crawl and reach whoever runs it (a
# project page, a mailto: URL); added to the User-Agent as "+CONTACT_URL".
CONTACT_URL = _env("CONTACT_URL")
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 soundscraping/0.1 (research crawler)"
)
# Per-site request budgets (soundscraping.middlewares.throttle): requests to the host of
# the named URL setting are spaced evenly, at most N per SECONDS as set by
# the "budget" setting ("N/SECONDS"; empty = none), counted separately for
# each value of the query parameter "per".  SoundCloud's api-v2 budget is
# about 600 requests per 10 minutes per client_id (yt-dlp's measurement,
# shared/reference/soundcloud.md §7): one request a second.  Tests and
# benchmarks against the replicas raise it explicitly.
REQUEST_BUDGETS = {
    "SOUNDCLOUD_API_URL": {"budget": "SOUNDCLOUD_REQUEST_BUDGET", "per": "client_id"},
}
SOUNDCLOUD_REQUEST_BUDGET = "600/600"
# The telnet console (a Python shell into the crawl) is off: its password
# is logged and a research server does not need it.  -s TELNETCONSOLE_ENABLED=True.
TELNETCONSOLE_ENABLED = False
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
# A Retry-After header (seconds or HTTP-date) holds the host that long, at
# most this many seconds.
RETRY_AFTER_MAX = 900.0
# Retries of a request that got no answer at all (connection refused, DNS,
# timeout) from a host that has not answered once in this crawl: a wrong
# *_URL setting or a site that is down is reported within seconds (naming the
# setting), not after RETRY_TIMES back-offs.
RETRY_FIRST_CONTACT_TIMES = 2
COOKIES_ENABLED = True

# --- Download handlers: browser, impersonated TLS, Scrapy's own ------------------
# One handler for both schemes routes each request by its meta (first match;
# None = the rest): meta["playwright"] -> a real browser (scrapy-playwright),
# meta["impersonate"] -> curl_cffi, else Scrapy's HTTP/1.1 handler.
DOWNLOAD_HANDLERS = {
    "http": "soundscraping.download_handlers.RoutingDownloadHandler",
    "https": "soundscraping.download_handlers.RoutingDownloadHandler",
}
DOWNLOAD_HANDLER_ROUTES = {
    "playwright": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "impersonate": "soundscraping.impersonation.ImpersonateDownloadHandler",
    None: "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
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
# Scrapy's check for generator callbacks that return a value re-reads the
# spider's source every few responses (bound methods defeat its cache): ~5%
# of a graph crawl's CPU.  ruff and the tests cover what it would catch.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Callbacks retry malformed pages with get_retry_request, which keeps the
# retry counter on purpose.
META_COPY_WARN_SKIP_KEYS = ["retry_times"]
