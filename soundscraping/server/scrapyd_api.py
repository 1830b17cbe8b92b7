"""The few Scrapyd endpoints the scheduler calls, with basic auth.

Credentials come from the environment only, under the names Scrapyd 1.6
itself reads (``SCRAPYD_USERNAME`` / ``SCRAPYD_PASSWORD``) and scrapy.cfg's
``[deploy]`` target expands for ``scrapyd-deploy``: one pair of variables for
the server, the deploy and the scheduler.  Every failure is a ``ScrapydError``
whose message is one line that never contains the password.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

USERNAME_ENV = "SCRAPYD_USERNAME"
PASSWORD_ENV = "SCRAPYD_PASSWORD"  # noqa: S105 (the variable's name)
TIMEOUT = 30.0


class ScrapydError(Exception):
    """A call that did not work (the message is one line, fit for a log)."""


class ScrapydUnreachable(ScrapydError):
    """Nothing answered at the node's URL (down, wrong port, DNS, timeout)."""


@dataclass(frozen=True)
class Node:
    """A Scrapyd server; credentials are read from the named environment variables at each call."""

    name: str
    url: str
    username_env: str = USERNAME_ENV
    password_env: str = PASSWORD_ENV

    @property
    def base(self) -> str:
        return self.url if self.url.endswith("/") else self.url + "/"

    def credentials(self) -> tuple[str, str] | None:
        username = os.environ.get(self.username_env, "")
        return (username, os.environ.get(self.password_env, "")) if username else None


def call(node: Node, endpoint: str, params: list[tuple[str, str]] | None = None, *, post: bool = False,
         timeout: float = TIMEOUT) -> dict[str, Any]:
    """The JSON answer of ``endpoint`` (``{"status": "ok", ...}``); ScrapydError otherwise."""
    data = urlencode(params or [])
    url = node.base + endpoint  # http(s) only: the schedule file's URLs are checked when it is read
    if post:
        request = urllib.request.Request(url, data=data.encode(), method="POST")  # noqa: S310
    else:
        request = urllib.request.Request(f"{url}?{data}" if data else url)  # noqa: S310
    if (auth := node.credentials()) is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the URL is the node's)
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            given = "the credentials in" if auth else "no credentials: set"
            raise ScrapydError(f"Scrapyd at {node.base} answered 401 Unauthorized to {endpoint} "
                               f"({given} {node.username_env}/{node.password_env})") from None
        raise ScrapydError(f"Scrapyd at {node.base} answered HTTP {exc.code} to {endpoint}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScrapydUnreachable(f"cannot reach Scrapyd at {node.base} ({endpoint}): {reason}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise ScrapydError(f"Scrapyd at {node.base} answered {endpoint} with no JSON") from None
    # Scrapyd reports its errors with HTTP 200 and {"status": "error", "message": ...}.
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        message = answer.get("message", answer) if isinstance(answer, dict) else answer
        raise ScrapydError(f"Scrapyd at {node.base} refused {endpoint}: {' '.join(str(message).split())}")
    return answer


def active_jobs(node: Node, project: str) -> list[dict[str, Any]]:
    """The project's pending and running jobs (each with ``state`` added)."""
    answer = call(node, "listjobs.json", [("project", project)])
    return [{**job, "state": state} for state in ("pending", "running") for job in answer.get(state, [])]


def schedule(node: Node, project: str, spider: str, job_id: str, args: dict[str, str],
             settings: dict[str, str]) -> str:
    """Queue one job; returns the job id Scrapyd gave it."""
    params = [("project", project), ("spider", spider), ("jobid", job_id), *args.items(),
              *(("setting", f"{name}={value}") for name, value in settings.items())]
    return str(call(node, "schedule.json", params, post=True)["jobid"])
