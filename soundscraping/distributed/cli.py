"""``soundscraping frontier status|reset``: a distributed job as Redis holds
it (queued units, leases and their holders, per-worker counts and rates),
and clearing it to start the job afresh."""

from __future__ import annotations

import argparse
import json
import sys

from soundscraping import distributed

SPIDERS = ("soundcloud_graph", "soundcloud_artists", "beatport_tracks", "cambridge_forum")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("status", "reset"))
    parser.add_argument("--spider", choices=SPIDERS, default="soundcloud_graph")
    parser.add_argument("--redis-url", help="default: the REDIS_URL setting / environment variable")
    parser.add_argument("--prefix", help="REDIS_KEY_PREFIX of the job (default: the setting, 'soundscraping')")
    parser.add_argument("--json", action="store_true", help="status as JSON")


def run_cli(args: argparse.Namespace) -> int:
    from scrapy.utils.project import get_project_settings

    from soundscraping.distributed.workqueue import WorkQueue

    settings = get_project_settings()
    if args.redis_url:
        settings.set("REDIS_URL", args.redis_url, priority="cmdline")
    if args.prefix:
        settings.set("REDIS_KEY_PREFIX", args.prefix, priority="cmdline")
    if not settings.get("REDIS_URL"):
        print("soundscraping frontier: error: no Redis: set REDIS_URL or give --redis-url", file=sys.stderr)
        return 2
    base = distributed.job_key(settings, args.spider)
    try:
        client = distributed.client(settings)
        queue = WorkQueue(client, base, "cli", 1)
        if args.action == "reset":
            print(f"Deleted {queue.clear()} keys of {base}")
            return 0
        status = queue.status()
    except distributed.RedisError as exc:
        print(f"soundscraping frontier: error: Redis at {distributed.mask_redis_url(settings.get('REDIS_URL'))}: "
              f"{exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"soundscraping frontier: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"job": base, **status}, indent=2))
        return 0
    print(f"{base}: {status['done']} done, {status['leased']} leased, {status['queued']} queued, "
          f"{status['passed_over']} passed over as too small, {status['expired_leases']} expired leases put back")
    for worker in status["workers"]:
        rate = f"{worker['per_minute']}/min" if worker["per_minute"] is not None else "-"
        print(f"  {worker['worker']}: {worker['finished']} finished ({rate}), {worker['leases']} leases held, "
              f"last finish {worker['last_finish_s_ago']} s ago")
    for lease in status["leases"][:20]:
        print(f"  lease {lease['unit']}: {lease['holder']}, expires in {lease['expires_in_s']} s")
    return 0
