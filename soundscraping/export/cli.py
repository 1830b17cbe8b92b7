"""``soundscraping export``: tables to Parquet/CSV/JSON lines, or the
interaction graph to GraphML/an edge list, with the data card."""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from soundscraping.storage import TABLES, Database, StorageError, default_database_url, error_line, mask_url

EXTRA_MISSING = "needs the 'export' extra (pyarrow): pip install -e '.[export]' in the checkout, or `make install`"
TABLE_FORMATS = ("parquet", "csv", "jsonl")
GRAPH_FORMATS = ("graphml", "edgelist")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z?)?$")


HELP = "the dataset as files: Parquet/CSV/JSON lines per table, or the graph (export extra)"
DESCRIPTION = ("One file per table (Parquet, CSV or JSON lines, typed from the schema) or the interaction graph "
               "(GraphML, edge list), with datacard.md/datacard.json: columns, units, NULL meanings, row counts, "
               "crawl runs, terms.")


class UsageError(ValueError):
    """A mistake in the command line; the message is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A command-line mistake: one line (no usage block), exit 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="soundscraping export", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None,
                        help="database (default: the DATABASE_URL setting/env var)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the files and data card")
    parser.add_argument("--format", default="parquet", choices=TABLE_FORMATS + GRAPH_FORMATS,
                        help="parquet (default), csv, jsonl: one file per table; graphml, edgelist: the "
                             "interaction graph with weights per kind")
    parser.add_argument("--tables", default=None, metavar="A,B",
                        help="tables to export (default: every table of the schema)")
    parser.add_argument("--since", default=None, metavar="DATE",
                        help="only rows written by crawl runs active since DATE (YYYY-MM-DD, UTC); tables "
                             "no crawl writes: by their own time column")


def _tables(arg: str | None) -> list[str]:
    if arg is None:
        return list(TABLES)
    names = [n.strip() for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in TABLES]
    if unknown or not names:
        raise UsageError(f"unknown table {', '.join(map(repr, unknown)) or '(none given)'} "
                         f"(tables: {', '.join(TABLES)})")
    return names


def _open(url: str) -> Database:
    db = Database.from_url(url)
    if db.dialect == "sqlite" and not Path(db.path).exists():  # type: ignore[attr-defined]
        raise UsageError(f"no SQLite database at {db.path}")  # type: ignore[attr-defined]
    db.connect()
    db.ensure_schema()  # refuses an older or newer schema with the fix to run
    return db


def _prepare_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".soundscraping-export"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to --out {out}: {exc.strerror or exc}") from None


def peak_rss_mb() -> float:
    """This process's peak resident memory.  Linux's VmHWM starts at exec;
    getrusage's maximum would include the parent's size at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export(args: argparse.Namespace) -> dict[str, Any]:
    """Run the export; returns the data card."""
    from soundscraping.export import datacard, graph, tables
    from soundscraping.storage import interaction_weights
    from soundscraping.storage.export_queries import crawl_runs, graph_run_ids
    from soundscraping.timestamps import utc_now

    fmt = args.format
    if args.since is not None and not _DATE.match(args.since):
        raise UsageError(f"bad --since {args.since!r} (use YYYY-MM-DD)")
    if args.tables is not None and fmt in GRAPH_FORMATS:
        raise UsageError(f"--tables does not apply to --format {fmt} (the graph is soundcloud_interactions)")
    names = _tables(args.tables)
    url = args.database_url or default_database_url()
    _prepare_out(args.out)
    db = _open(url)
    try:
        started = time.monotonic()
        exported: dict[str, dict[str, Any]] = {}
        graph_info = None
        if fmt in GRAPH_FORMATS:
            weights = interaction_weights()
            result = graph.export_graph(db, args.out, fmt, weights, args.since)
            graph_info = graph.describe_graph(result, weights)
            run_ids: set[int] = set(graph_run_ids(db, args.since))
        else:
            for name in names:
                done = tables.export_table(db, TABLES[name], args.out, fmt, args.since)
                exported[name] = {"file": done.file, "rows": done.rows, "crawl_run_ids": done.crawl_run_ids}
                print(f"{name}: {done.rows:,} rows -> {args.out / done.file}", file=sys.stderr)
            run_ids = set().union(*(t["crawl_run_ids"] for t in exported.values())) if exported else set()
        card = datacard.build_card(database=mask_url(url), fmt=fmt, since=args.since, tables=exported,
                                   runs=crawl_runs(db, sorted(run_ids)), graph=graph_info, generated_at=utc_now())
        datacard.write_card(args.out, card)
        rows = sum(t["rows"] for t in exported.values())
        what = (f"{graph_info['nodes']:,} nodes, {graph_info['edges']:,} edges" if graph_info
                else f"{len(exported)} tables, {rows:,} rows")
        print(f"exported {what} as {fmt} to {args.out} in {time.monotonic() - started:.1f} s, peak RSS "
              f"{peak_rss_mb():.0f} MB (data card: datacard.md, datacard.json)", file=sys.stderr)
        return card
    finally:
        db.close()


def run_cli(args: argparse.Namespace) -> int:
    """Mistakes, a missing extra and database errors: one stderr line, exit 2."""
    prog = "soundscraping export"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        print(f"{prog}: error: it {EXTRA_MISSING}", file=sys.stderr)
        return 2
    import psycopg2

    try:
        export(args)
    except (UsageError, StorageError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (psycopg2.Error, sqlite3.Error) as exc:
        url = args.database_url or default_database_url()
        print(f"{prog}: error: database error ({mask_url(url)}): {error_line(exc)}", file=sys.stderr)
        return 2
    return 0
