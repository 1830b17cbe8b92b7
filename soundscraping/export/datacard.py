"""The data card written beside every export: ``datacard.json`` (for
programs) and ``datacard.md`` (for people).  Per table: what a row is, each
column's type, unit and what NULL means (from ``storage.schema``'s data
dictionary: the one schema definition), the row count, the crawl runs the
rows came from; the documented media JOINs; the sites' terms as far as this
project knows them, and what was not collected."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from soundscraping.export.arrow import ARROW_TYPES
from soundscraping.provenance import code_version
from soundscraping.storage import TABLES, Table
from soundscraping.storage.export_queries import MEDIA_JOINS, MEDIA_URL_JOINS
from soundscraping.storage.schema import TABLE_DOCS, column_unit, null_meaning
from soundscraping.storage.sql import column_type
from soundscraping.timestamps import utc_timestamp

# What the project's reference notes say about each site's rules (robots.txt
# as recorded; the terms themselves are the sites' to read), and what the
# crawls leave out by design.
SITES: dict[str, dict[str, Any]] = {
    "soundcloud": {
        "tables": ["soundcloud_users", "soundcloud_tracks", "soundcloud_track_stats", "soundcloud_comments",
                   "soundcloud_interactions", "soundcloud_graph_visits"],
        "terms": "SoundCloud's Terms of Use (https://soundcloud.com/terms-of-use) govern the content; uploads "
                 "are the uploaders' works. robots.txt (mid-2025): `User-Agent: *` may fetch everything on "
                 "soundcloud.com (some AI crawlers are disallowed); api.soundcloud.com disallows everything; "
                 "api-v2 sends `x-robots-tag: noindex`.",
        "not_collected": [
            "audio of any track (only artwork, avatars, banners and waveform JSON are stored)",
            "private and unlisted tracks; anything behind a login",
            "followers lists (the graph reads each visited account's followings, likes, reposts and comments)",
            "more than the most recent `per_kind_limit` interactions of each kind per visited account",
            "accounts with fewer than `min_followers` followers are not visited (their edges as targets are kept)",
            "counts the uploader hides (NULL, never 0)",
        ],
    },
    "beatport": {
        "tables": ["beatport_tracks", "beatport_matches"],
        "terms": "Beatport's terms of use govern its catalogue data and previews. robots.txt: `User-agent: *` "
                 "Allow: /; AI crawler user agents are disallowed; `Content-Signal: search=yes`.",
        "not_collected": [
            "full-length audio (only the 2-minute preview, waveform and artwork)",
            "prices, charts, accounts",
            "DJ sets are never searched",
        ],
    },
    "cambridge_mt": {
        "tables": ["cmt_songs", "cmt_forum_threads", "cmt_forum_posts", "cmt_mixes"],
        "terms": "The Mixing Secrets multitracks are offered by Cambridge Music Technology under its own "
                 "conditions of use; forum posts are their authors'. No robots.txt was found for either host.",
        "not_collected": [
            "multitrack ZIPs unless `-a download=all`; registration-only downloads (recorded, not fetched)",
            "files on external hosts (zenodo, archive.org, puremix: recorded, not fetched)",
            "forum member profiles, private messages, anything behind a login",
        ],
    },
}


def _columns(table: Table) -> list[dict[str, str]]:
    return [{"name": c.name, "type": c.kind, "arrow_type": str(ARROW_TYPES[c.kind]),
             "postgresql_type": column_type(c, "postgresql"), "unit": column_unit(table, c),
             "null": null_meaning(table, c)} for c in table.columns]


def build_card(*, database: str, fmt: str, since: str | None, tables: Mapping[str, Mapping[str, Any]],
               runs: list[dict[str, Any]], graph: Mapping[str, Any] | None, generated_at: str) -> dict[str, Any]:
    """The card as a dict: ``tables`` maps each exported table to its
    ``file``, ``rows`` and ``crawl_run_ids``."""
    version, commit = code_version()
    described = {}
    for name, info in tables.items():
        table = TABLES[name]
        described[name] = {"description": TABLE_DOCS.get(name, ""), "key": list(table.key),
                           "file": info["file"], "rows": info["rows"],
                           "crawl_run_ids": sorted(info.get("crawl_run_ids", ())), "columns": _columns(table)}
    for run in runs:
        for field, value in run.items():
            if isinstance(value, datetime):  # PostgreSQL: the same text as SQLite's
                run[field] = utc_timestamp(value)
        for field in ("arguments", "settings", "stats"):
            if isinstance(run.get(field), str):
                run[field] = json.loads(run[field])
    return {
        "generated_at": generated_at, "soundscraping_version": version, "git_commit": commit,
        "database": database, "format": fmt, "since": since, "tables": described,
        "graph": dict(graph) if graph else None, "crawl_runs": runs,
        "media_joins": {**MEDIA_JOINS, **{f"by_url_{k}": v for k, v in MEDIA_URL_JOINS.items()}},
        "sites": SITES,
    }


def _md_cell(text: Any) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def render_markdown(card: Mapping[str, Any]) -> str:
    lines = ["# Data card", "",
             f"Exported {card['generated_at']} from `{card['database']}` as {card['format']}"
             + (f", rows written since {card['since']}" if card["since"] else "")
             + f" by soundscraping {card['soundscraping_version']} ({card['git_commit'] or 'no git commit'}).",
             "Times are UTC. `crawl_run_id` names the crawl run (below) that last wrote a row.", ""]
    if card["graph"]:
        g = card["graph"]
        lines += ["## Interaction graph", "", f"`{g['file']}`: {g['nodes']:,} nodes, {g['edges']:,} directed edges; "
                  "edge attributes: " + ", ".join(f"`{k}` ({v})" for k, v in g["edge_attributes"].items()), ""]
    for name, t in card["tables"].items():
        runs = ", ".join(map(str, t["crawl_run_ids"])) or "none recorded"
        lines += [f"## `{name}`", "", t["description"], "",
                  f"File `{t['file']}`, {t['rows']:,} rows, key ({', '.join(t['key'])}); crawl runs: {runs}.", "",
                  "| column | type | unit | NULL means |", "|---|---|---|---|"]
        lines += [f"| `{c['name']}` | {c['type']} ({c['arrow_type']}) | {_md_cell(c['unit'])} | {_md_cell(c['null'])} |"
                  for c in t["columns"]]
        lines.append("")
    lines += ["## Crawl runs", "",
              "| id | spider | arguments | version | commit | started | finished | finish reason |",
              "|---|---|---|---|---|---|---|---|"]
    for r in card["crawl_runs"]:
        lines.append(f"| {r['id']} | {_md_cell(r['spider'])} | {_md_cell(json.dumps(r['arguments']))} | "
                     f"{_md_cell(r['version'])} | {_md_cell(r['git_commit'])} | {_md_cell(r['started_at'])} | "
                     f"{_md_cell(r['finished_at'])} | {_md_cell(r['finish_reason'])} |")
    lines += ["", "Each run's settings (secrets masked) and final stats are in `datacard.json`.", "",
              "## Stored files (media_files)", "", "Every stored file is returned by one of these JOINs:", ""]
    lines += [f"- `{sql}`" for sql in card["media_joins"].values()]
    lines += ["", "## Sites: terms, and what was not collected", ""]
    for site, info in card["sites"].items():
        lines += [f"### {site}", "", info["terms"], "", "Not collected:", ""]
        lines += [f"- {item}" for item in info["not_collected"]]
        lines.append("")
    return "\n".join(lines)


def write_card(out: Path, card: Mapping[str, Any]) -> None:
    (out / "datacard.json").write_text(json.dumps(card, indent=1, ensure_ascii=False, default=str) + "\n",
                                       encoding="utf-8")
    (out / "datacard.md").write_text(render_markdown(card), encoding="utf-8")
