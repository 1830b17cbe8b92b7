"""Crawl monitoring on spidermon: every spider's job is judged when it
closes (finish reason, item count, error/ban/retry shares, field coverage,
item validation), watched while it runs (no new item for too long), and
reported (HTML + JSON under MONITOR_REPORT_DIR, optional Slack / e-mail).
A failed monitor makes the crawl's exit status non-zero (soundscraping.outcome).

- ``schemas``: JSON Schemas generated from the item classes (item validation);
- ``coverage``: which columns must be filled, and the NULLs a site itself sends;
- ``monitors``: the monitors and the suites the settings name;
- ``actions``: the report files, the outcome line and stat, alerts, closing a stalled crawl.
"""
