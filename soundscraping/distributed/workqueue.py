"""Units of work shared by the workers of a job, claimed with leases.

A job's units wait in a sorted set (``queue``), best first (highest score).
``claim`` is one Lua script, so one atomic step: it first puts back every
unit whose lease has expired (its worker died or lost Redis), then takes the
best units still to do and records, for each, a lease with a deadline
(``leases``: unit -> deadline in ms, Redis's own clock), its holder and the
score to put it back with.  The holder renews its leases while it works and
finishes a unit once the unit's rows are committed; a finished unit is in
``done`` and never claimed again.

The graph frontier uses the same script with two more rules: a unit needs
``min_followers`` (seeds excepted) or it is passed over for good, and no
claim is granted once ``done + leased`` reaches ``max_total``, so that limit
holds across all workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CLAIM = """
-- KEYS: queue leases holder back attempts done position followers exempt passed expired_count first_claim
-- ARGV: worker lease_ms n max_total(0: none) min_followers(-1: no size rule)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, unit in ipairs(expired) do
  redis.call('ZREM', KEYS[2], unit)
  redis.call('HDEL', KEYS[3], unit)
  local back = redis.call('HGET', KEYS[4], unit)
  redis.call('HDEL', KEYS[4], unit)
  if redis.call('SISMEMBER', KEYS[6], unit) == 0 then
    redis.call('ZADD', KEYS[1], back or 0, unit)
    redis.call('INCR', KEYS[11])
  end
end
local n = tonumber(ARGV[3])
local max_total = tonumber(ARGV[4])
local min_followers = tonumber(ARGV[5])
local out = {#expired}
local taken = 0
while taken < n do
  if max_total > 0 and redis.call('SCARD', KEYS[6]) + redis.call('ZCARD', KEYS[2]) >= max_total then break end
  local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #top == 0 then break end
  local unit, score = top[1], top[2]
  redis.call('ZREM', KEYS[1], unit)
  local eligible = redis.call('SISMEMBER', KEYS[6], unit) == 0
  if eligible and min_followers >= 0 and redis.call('SISMEMBER', KEYS[9], unit) == 0 then
    local followers = tonumber(redis.call('HGET', KEYS[8], unit) or '-1')
    if followers < min_followers then
      redis.call('SADD', KEYS[10], unit)
      eligible = false
    end
  end
  if eligible then
    redis.call('HSETNX', KEYS[12], ARGV[1], now)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), unit)
    redis.call('HSET', KEYS[3], unit, ARGV[1])
    redis.call('HSET', KEYS[4], unit, score)
    local attempt = redis.call('HINCRBY', KEYS[5], unit, 1)
    local position = redis.call('INCR', KEYS[7]) - 1
    table.insert(out, unit)
    table.insert(out, score)
    table.insert(out, attempt)
    table.insert(out, position)
    taken = taken + 1
  end
end
return out
"""

# Renew this worker's leases; returns the units it no longer holds.
RENEW = """
-- KEYS: leases holder   ARGV: worker lease_ms units...
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""

# Units whose rows are committed: done for good, their leases dropped.
FINISH = """
-- KEYS: leases holder back done finished_by last_finish   ARGV: worker units...
local t = redis.call('TIME')
redis.call('HSET', KEYS[6], ARGV[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
for i = 2, #ARGV do
  redis.call('HINCRBY', KEYS[5], ARGV[1], redis.call('SADD', KEYS[4], ARGV[i]))
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
  end
end
return 0
"""

# Units given back unfinished (a clean stop): to the queue at once.
RELEASE = """
-- KEYS: queue leases holder back done   ARGV: worker units...
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then
    local back = redis.call('HGET', KEYS[4], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('HDEL', KEYS[4], ARGV[i])
    if redis.call('SISMEMBER', KEYS[5], ARGV[i]) == 0 then
      redis.call('ZADD', KEYS[1], back or 0, ARGV[i])
    end
  end
end
return 0
"""

# Offer units (pairs of unit and score): queued unless done, leased or
# passed over.  mode 'incr' adds to the score (ZINCRBY: an edge read),
# 'nx' keeps a unit already queued (loading a list, restoring a frontier),
# 'raise' lifts a queued unit to at least this score (seeds).
OFFER = """
-- KEYS: queue leases done passed   ARGV: mode unit score unit score ...
local mode = ARGV[1]
local added = 0
for i = 2, #ARGV, 2 do
  local unit = ARGV[i]
  if redis.call('SISMEMBER', KEYS[3], unit) == 0 and not redis.call('ZSCORE', KEYS[2], unit)
     and redis.call('SISMEMBER', KEYS[4], unit) == 0 then
    if mode == 'incr' then
      redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], unit)
    elseif mode == 'nx' then
      added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], unit)
    else
      added = added + redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[i + 1], unit)
    end
  end
end
return added
"""


@dataclass(frozen=True)
class Claim:
    unit: str
    score: float
    attempt: int  # 1 the first time; more: an earlier holder's lease expired
    position: int  # claim order across the job


class WorkQueue:
    """The units, leases and finished set of one job (keys under ``base``)."""

    FIELDS = ("queue", "leases", "holder", "back", "attempts", "done", "position", "followers", "exempt",
              "passed", "expired", "first_claim")

    def __init__(self, redis: Any, base: str, worker: str, lease_seconds: float):
        self.redis = redis
        self.base = base
        self.worker = worker
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.keys = {name: f"{base}:{name}" for name in self.FIELDS}
        self._claim = redis.register_script(CLAIM)
        self._renew = redis.register_script(RENEW)
        self._finish = redis.register_script(FINISH)
        self._release = redis.register_script(RELEASE)
        self._offer = redis.register_script(OFFER)

    def key(self, name: str) -> str:
        return f"{self.base}:{name}"

    def claim(self, n: int = 1, max_total: int = 0, min_followers: int = -1) -> tuple[list[Claim], int]:
        """Up to ``n`` units, best first, each leased to this worker; and how
        many expired leases this step put back."""
        k = self.keys
        out = self._claim(keys=[k[name] for name in self.FIELDS],
                          args=[self.worker, self.lease_ms, n, max_total, min_followers])
        expired = int(out[0])
        claims = [Claim(out[i], float(out[i + 1]), int(out[i + 2]), int(out[i + 3])) for i in range(1, len(out), 4)]
        return claims, expired

    def renew(self, units: Iterable[str]) -> list[str]:
        """Push back the deadlines of these leases; returns those lost."""
        units = list(units)
        if not units:
            return []
        return list(self._renew(keys=[self.keys["leases"], self.keys["holder"]],
                                args=[self.worker, self.lease_ms, *units]))

    def finish(self, units: Iterable[str]) -> None:
        units = list(units)
        if units:
            k = self.keys
            self._finish(keys=[k["leases"], k["holder"], k["back"], k["done"], self.key("finished_by"),
                               self.key("last_finish")], args=[self.worker, *units])

    def release(self, units: Iterable[str]) -> None:
        units = list(units)
        if units:
            k = self.keys
            self._release(keys=[k["queue"], k["leases"], k["holder"], k["back"], k["done"]],
                          args=[self.worker, *units])

    def offer(self, scored: Sequence[tuple[Any, float]], mode: str = "nx", chunk: int = 5000) -> int:
        """Queue units (see OFFER for ``mode``); returns how many were added."""
        k, added = self.keys, 0
        for start in range(0, len(scored), chunk):
            args: list[Any] = [mode]
            for unit, score in scored[start:start + chunk]:
                args += [unit, score]
            added += int(self._offer(keys=[k["queue"], k["leases"], k["done"], k["passed"]], args=args))
        return added

    def status(self) -> dict[str, Any]:
        """Sizes and leases, for ``soundscraping frontier status``."""
        k = self.keys
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(k["queue"]).zcard(k["leases"]).scard(k["done"]).scard(k["passed"]).get(k["expired"])
            pipe.zrange(k["leases"], 0, -1, withscores=True).hgetall(k["holder"]).time()
            pipe.hgetall(self.key("finished_by")).hgetall(k["first_claim"]).hgetall(self.key("last_finish"))
            queued, leased, done, passed, expired, leases, holders, now, by, first, last = pipe.execute()
        now_ms = now[0] * 1000 + now[1] // 1000
        workers = []
        for worker in sorted(set(by) | set(first)):
            finished = int(by.get(worker, 0))
            span = (float(last.get(worker, 0)) - float(first.get(worker, now_ms))) / 60_000
            workers.append({"worker": worker, "finished": finished,
                            "per_minute": round(finished / span, 1) if finished and span > 0 else None,
                            "leases": sum(1 for holder in holders.values() if holder == worker),
                            "last_finish_s_ago": round((now_ms - float(last[worker])) / 1000, 1) if worker in last
                            else None})
        return {"queued": queued, "leased": leased, "done": done, "passed_over": passed,
                "expired_leases": int(expired or 0), "workers": workers,
                "leases": [{"unit": unit, "holder": holders.get(unit),
                            "expires_in_s": round((deadline - now_ms) / 1000, 1)} for unit, deadline in leases]}

    def outstanding(self) -> int:
        """Units leased by anyone: they may still add work, or expire."""
        return int(self.redis.zcard(self.keys["leases"]))

    def clear(self) -> int:
        """Delete the job's keys (``soundscraping frontier reset``)."""
        keys = list(self.redis.scan_iter(match=f"{self.base}:*", count=1000))
        return int(self.redis.delete(*keys)) if keys else 0
