"""``soundscraping <command>`` (the console script) and ``python -m soundscraping``.

Commands: ``map`` -- the community map of the interaction graph (see
``soundscraping.map``); ``db status`` / ``db upgrade`` -- schema migrations
(see ``soundscraping.storage.migrations``).  Crawls run through ``scrapy crawl``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence

# Top-level modules of the ``map`` extra (pyproject.toml).  A crawler-only
# install (requirements.txt, ``make install-crawler``) has none of them.
MAP_MODULES = ("numpy", "scipy", "sklearn", "openTSNE", "plotly", "matplotlib")


def missing_map_modules() -> list[str]:
    """The modules of the ``map`` extra that cannot be imported here."""
    return [name for name in MAP_MODULES if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    if missing := missing_map_modules():
        print(f"soundscraping map: error: the map needs the 'map' extra ({', '.join(missing)} not installed): "
              "pip install -e '.[map]' in the checkout, or `make install`", file=sys.stderr)
        return 2
    from soundscraping import map as community_map
    from soundscraping.storage.migrations import cli as db_cli

    parser = argparse.ArgumentParser(prog="soundscraping", description="soundscraping tools (crawls: scrapy crawl)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    map_parser = commands.add_parser("map", help="draw the community map of the interaction graph",
                                     description=community_map.build_parser().description)
    community_map.add_arguments(map_parser)
    db_parser = commands.add_parser("db", help="the database schema: status, upgrade (migrations)")
    db_cli.add_arguments(db_parser)
    args = parser.parse_args(argv)
    if args.command == "db":
        return db_cli.run_cli(args)
    return community_map.run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
