"""``soundscraping <command>`` (the console script) and ``python -m soundscraping``.

Commands: ``map`` -- the community map of the interaction graph (see
``soundscraping.community_map``); ``db status`` / ``db upgrade`` -- schema migrations
(see ``soundscraping.storage.migrations``); ``sentiment`` / ``moments`` -- comment
sentiment and the moments of a track people react to (see
``soundscraping.analysis``); ``audio-features`` / ``audio-report`` -- tempo,
key and loudness of stored previews against Beatport's labels (see
``soundscraping.audio``, the ``audio`` extra); ``cmt-postprocess`` --
Cambridge-MT stems named and measured, mixes aligned, features; ``schedule list|run-now|serve`` --
crawls started on Scrapyd from ``deploy/schedules.toml``, ``scrapyd`` -- Scrapyd, refused unless
local-only or password-protected (see ``soundscraping.server``); ``frontier status`` / ``frontier
reset`` -- a distributed job in Redis (see ``soundscraping.distributed``); ``export`` -- tables as
Parquet/CSV/JSON lines or the interaction graph as GraphML/edge list, with a
data card (see ``soundscraping.export``, the ``export`` extra).  Crawls run through ``scrapy crawl``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Top-level modules of the ``map`` extra (pyproject.toml).  A crawler-only
# install (requirements.txt, ``make install-crawler``) has none of them.
MAP_MODULES = ("numpy", "scipy", "sklearn", "openTSNE", "umap", "plotly", "matplotlib")


def missing_map_modules() -> list[str]:
    """The modules of the ``map`` extra that cannot be imported here."""
    return [name for name in MAP_MODULES if importlib.util.find_spec(name) is None]


# Top-level modules of the ``analysis`` extra: ``soundscraping sentiment``
# scores with them (``moments`` draws with the map stack).
ANALYSIS_MODULES = ("vaderSentiment", "lingua")


def missing_analysis_modules() -> list[str]:
    """The modules of the ``analysis`` extra that cannot be imported here."""
    return [name for name in ANALYSIS_MODULES if importlib.util.find_spec(name) is None]


# Top-level modules of the ``audio`` extra: ``audio-features`` and
# ``cmt-postprocess`` decode and measure with them, ``audio-report`` draws.
AUDIO_MODULES = ("essentia", "soundfile", "numpy", "scipy", "matplotlib")


@dataclass(frozen=True)
class Command:
    """One ``soundscraping <name>`` sub-command, stated once."""

    name: str
    help: str
    description: str | None
    # None: its options are read only with its extra, so the parser takes any
    # (no --help of its own, unknown arguments tolerated) and ``run`` refuses.
    add_arguments: Callable[[argparse.ArgumentParser], None] | None
    run: Callable[[argparse.Namespace], int]


def map_extra_refusal(missing: list[str]) -> Callable[[argparse.Namespace], int]:
    """The run of a command that draws with the map stack, on a host without it."""
    def refuse(args: argparse.Namespace) -> int:
        print(f"soundscraping {args.command}: error: the map needs the 'map' extra ({', '.join(missing)} "
              "not installed): pip install -e '.[map]' in the checkout, or `make install`", file=sys.stderr)
        return 2
    return refuse


def run_sentiment(args: argparse.Namespace) -> int:
    """``sentiment``, refused with one line on a host without the ``analysis`` extra."""
    from soundscraping.analysis import cli as analysis_cli

    if missing := missing_analysis_modules():
        print(f"soundscraping sentiment: error: it {analysis_cli.EXTRA_MISSING} ({', '.join(missing)} "
              "not installed)", file=sys.stderr)
        return 2
    return analysis_cli.run_sentiment_cli(args)


def command_table() -> list[Command]:
    """The sub-commands in ``--help`` order (imports every command's CLI module)."""
    from soundscraping.analysis import cli as analysis_cli
    from soundscraping.audio import cli as audio_cli
    from soundscraping.distributed import cli as frontier_cli
    from soundscraping.export import cli as export_cli
    from soundscraping.server import cli as server_cli
    from soundscraping.storage.migrations import cli as db_cli

    # The map stack is needed by `map` and `moments` only: `db` and `sentiment`
    # must work on a host without it (a crawler host runs `db upgrade`).
    map_missing = missing_map_modules()
    map_help = "draw the community map of the interaction graph"
    if map_missing:
        map_command = Command("map", map_help, None, None, map_extra_refusal(map_missing))
    else:
        from soundscraping.community_map import cli as community_map

        map_command = Command("map", map_help, community_map.build_parser().description,
                              community_map.add_arguments, community_map.run_cli)
    return [
        map_command,
        Command("db", "the database schema: status, upgrade (migrations)", None, db_cli.add_arguments, db_cli.run_cli),
        Command("sentiment", "score the comments not yet scored by the current sentiment model",
                "Score comments (VADER + music lexicon, English only: other languages get NULL) into "
                "soundcloud_comment_sentiment; incremental, resumable.",
                analysis_cli.add_sentiment_arguments, run_sentiment),
        Command("moments", "peaks of timed-comment density along tracks: store them, draw one track",
                "Moments: peaks of timed-comment density along a track (soundcloud_track_moments).",
                analysis_cli.add_moments_arguments,
                map_extra_refusal(map_missing) if map_missing else analysis_cli.run_moments_cli),
        Command("audio-features", "tempo, key and loudness of the stored previews (audio extra)",
                "Analyse each stored preview (media_files role 'preview') with essentia into audio_features: "
                "resumable (analysed previews of the current analyser version are skipped), one process per core.",
                audio_cli.add_features_arguments, audio_cli.run_features_cli),
        Command("audio-report", "tempo and key estimates vs Beatport's bpm and key (figures + PNG)",
                "Compare audio_features with beatport_tracks.bpm/key_name: tempo Accuracy1/Accuracy2, "
                "MIREX weighted key score, key relations; writes a PNG.",
                audio_cli.add_report_arguments, audio_cli.run_report_cli),
        Command("cmt-postprocess", "Cambridge-MT: stems named and measured, mixes aligned, features (audio extra)",
                "Read each stored multitrack ZIP stem by stem into cmt_stems (instrument group, format, level), "
                "align each stored forum mix and library preview to the summed stems (cmt_mix_alignment), "
                "describe stems and mixes (cmt_audio_features); resumable, one song per transaction.",
                audio_cli.add_cmt_arguments, audio_cli.run_cmt_cli),
        Command("frontier", "a distributed job in Redis: status (sizes, leases, per-worker rates), reset",
                "Distributed mode (REDIS_URL): what the job's Redis keys hold, or delete them.",
                frontier_cli.add_arguments, frontier_cli.run_cli),
        Command("schedule", "scheduled crawls on Scrapyd: list, run-now, serve (deploy/schedules.toml)",
                "Start crawls on Scrapyd (schedule.json) from a schedule file, never while the same job is "
                "still pending or running there.",
                server_cli.add_schedule_arguments, server_cli.run_schedule_cli),
        Command("scrapyd", "run Scrapyd, refused if it would listen beyond 127.0.0.1 without basic auth",
                "Check Scrapyd's configuration (its config files and SCRAPYD_* variables) and run it: "
                "a Scrapyd listening beyond the loopback interface needs SCRAPYD_USERNAME and SCRAPYD_PASSWORD.",
                server_cli.add_scrapyd_arguments, server_cli.run_scrapyd_cli),
        Command("export", export_cli.HELP, export_cli.DESCRIPTION, export_cli.add_arguments, export_cli.run_cli),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        # The export imports only its own modules: the other commands' stacks
        # (the map's scipy/scikit-learn, Scrapy) would cost seconds and ~200 MB.
        from soundscraping.export import cli as export_cli

        return export_cli.run_cli(export_cli.build_parser().parse_args(argv[1:]))
    commands = {command.name: command for command in command_table()}
    parser = argparse.ArgumentParser(prog="soundscraping", description="soundscraping tools (crawls: scrapy crawl)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="command")
    for command in commands.values():
        if command.add_arguments is None:
            subparsers.add_parser(command.name, help=command.help, add_help=False)
        else:
            command.add_arguments(subparsers.add_parser(command.name, help=command.help,
                                                        description=command.description))
    args, unknown = parser.parse_known_args(argv)
    chosen = commands[args.command]
    if unknown and chosen.add_arguments is not None:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return chosen.run(args)


if __name__ == "__main__":
    sys.exit(main())
