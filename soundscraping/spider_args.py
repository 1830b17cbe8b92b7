"""Spider arguments (``-a name=value``), declared once per spider as an
``ArgSpec``: the same declaration parses the values, rejects mistakes with
one line (unknown names with the list of valid ones, a number that is not
one, a choice that is not offered, a file that cannot be read) and writes the
usage shown in that line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

# Arguments Scrapyd passes to the jobs it schedules: the job id, and the
# project version when schedule.json names one.
SCRAPYD_ARGUMENTS = frozenset({"_job", "_version"})


class SpiderArgumentError(ValueError):
    """A user mistake in the spider arguments; the message is one line."""


@dataclass(frozen=True)
class Arg:
    name: str
    metavar: str  # how the value looks, for the usage line
    parse: Callable[[str], Any] = str  # raises ValueError with a reason
    default: Any = None
    attr: str = ""  # the spider attribute that holds the value (default: name)


@dataclass(frozen=True)
class ArgSpec:
    args: tuple[Arg, ...] = ()
    # At least one of these must be given and not empty (the crawl's input).
    required_any: tuple[str, ...] = ()

    def with_args(self, *extra: Arg) -> ArgSpec:
        """This spec plus arguments every spider takes (its own win a name clash)."""
        own = set(self.names)
        return replace(self, args=self.args + tuple(a for a in extra if a.name not in own))

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.args]

    def usage(self, names: tuple[str, ...] | None = None) -> str:
        chosen = [a for a in self.args if names is None or a.name in names]
        return " ".join(f"-a {a.name}={a.metavar}" for a in chosen) or "(no arguments)"

    def parse(self, spider: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments' values by name (defaults filled in)."""
        unknown = sorted(set(given) - set(self.names) - SCRAPYD_ARGUMENTS)
        if unknown:
            valid = ", ".join(self.names) or "none"
            raise SpiderArgumentError(f"{spider} has no argument {', '.join(map(repr, unknown))} "
                                      f"(valid arguments: {valid})")
        values = {}
        for arg in self.args:
            if arg.name not in given or given[arg.name] is None:
                values[arg.name] = arg.default
                continue
            raw = given[arg.name]
            try:
                values[arg.name] = arg.parse(raw) if isinstance(raw, str) else raw
            except (ValueError, OSError) as exc:
                raise SpiderArgumentError(f"{spider}: bad -a {arg.name}={raw}: {exc}") from None
        if self.required_any and not any(values[n] for n in self.required_any):
            joined = " or ".join(f"-a {a.name}={a.metavar}" for a in self.args if a.name in self.required_any)
            raise SpiderArgumentError(f"{spider}: nothing to crawl: give {joined}")
        return values


# -- value parsers ---------------------------------------------------------------


def integer(minimum: int = 0) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("not a whole number") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def boolean(text: str) -> bool:
    """true/false (also yes/no, on/off, 1/0; case ignored)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def names(text: str) -> list[str]:
    """Comma-separated names, in order, repeats dropped."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def numbers(text: str) -> list[int]:
    """Numbers separated by commas (or spaces, or semicolons), repeats dropped."""
    found = []
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise ValueError(f"{part.strip()!r} is not a number (give numbers separated by commas)")
            found.append(int(part))
    return list(dict.fromkeys(found))


def lines_of_file(text: str) -> list[str]:
    """The non-empty, non-comment (#) lines of a UTF-8 text file."""
    path = Path(text).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ValueError(f"no such file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return list(dict.fromkeys(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")))


# One place for durations: "7d", "12h", "30m", "45s", "1w", combined ("1d12h").
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_DURATION_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def duration(text: str) -> timedelta:
    """A duration such as ``7d``, ``12h``, ``30m``, ``0s`` or ``1d12h``."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError("not a duration (give a number and a unit: 7d, 12h, 30m, 45s, 1w, or e.g. 1d12h)")
    return sum((timedelta(**{_DURATION_UNITS[u]: int(n)}) for n, u in parts), timedelta())


# Taken by every spider (SoundscrapingSpider adds it to each one's ArgSpec):
# re-visit only the units of work whose last completion, in any earlier
# crawl, is older than this (soundscraping.units); unset: visit every unit.
RECRAWL_AFTER = Arg("recrawl_after", "DURATION", duration)
