"""Logging for a daemon a seller reads later: every decision, with its ticket, in one place.

The terminal gets warnings (everything with -v); the configured log file gets the configured
level, as plain lines or JSON lines, so `grep "ticket #42"` or a log shipper finds a ticket's story.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

TICKET = re.compile(r"ticket #(\d+)")
PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the ticket id lifted out of the message when it has one."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        found = TICKET.search(message)
        document = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "ticket": int(found.group(1)) if found else None,
            "message": message,
        }
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def setup_console_logging(verbose: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(handler)


def setup_file_logging(path: Path | None, level: str, as_json: bool) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(getattr(logging, level.upper(), logging.INFO))
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(PLAIN_FORMAT))
    logging.getLogger().addHandler(handler)
