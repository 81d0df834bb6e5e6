"""Shared pieces of the kill tests: a mail corpus, the kill loop, and the exactly-once audit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.state import Store

REPO = Path(__file__).resolve().parent.parent

REQUESTS = (
    "Hi, I ordered the wrong colour by mistake, please cancel order {n} before it ships.",
    "Where is my parcel? Order {n} was supposed to arrive on Monday and tracking has not moved.",
    "I moved last week, could you send order {n} to my new address: 12 Elm Road, Leeds LS2 7AB?",
    "The teapot from order {n} arrived cracked and the lid is broken. I want a refund.",
    "If order {n} is not sorted out I will leave a one star review.",
    "Do you sell replacement filters for the kettle? Asking before I buy (ref {n}).",
)


def corpus(count: int, seed: int = 7, first: int = 0) -> list[bytes]:
    """`count` distinct customer messages, every one of which earns a reply draft."""
    rng = random.Random(seed + first)
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    messages = []
    for n in range(first, first + count):
        msg = EmailMessage()
        msg["From"] = f"Buyer {n} <buyer{n}@example.net>"
        msg["To"] = "support@shop.example"
        msg["Subject"] = f"Question about order {n}"
        msg["Date"] = format_datetime(start + timedelta(minutes=n))
        msg["Message-ID"] = make_msgid(idstring=f"crash{n}", domain="example.net")
        msg.set_content(rng.choice(REQUESTS).format(n=f"{n:05d}") + "\n\nThanks,\nBuyer\n")
        messages.append(bytes(msg))
    return messages


def write_config(directory: Path, mailbox_table: str) -> Path:
    config = directory / "aftersale.toml"
    config.write_text(
        '[seller]\nname = "Shop"\naddress = "support@shop.example"\nsignature = "Shop team"\n'
        f"{mailbox_table}\n"
        '[outbox]\nkind = "draft"\n'
        '[store]\npath = "state"\n'
        "[followups]\n",
        encoding="utf-8",
    )
    return config


@dataclass(frozen=True)
class KillReport:
    kills: int
    runs: int
    handled_before_last_run: int
    """Messages already handled when the kills ended: proof the kills fell mid-work."""


def kill_loop(
    config: Path,
    kills: int,
    seed: int,
    count_handled: Callable[[], int],
    deliver_more: Callable[[], None],
    env: dict[str, str] | None = None,
    max_delay: float = 1.5,
) -> KillReport:
    """Start `once` again and again, SIGKILLing it at random moments, then let it finish.

    When a run empties the mailbox before its kill comes (a fast machine), another tranche of
    mail is delivered, so every kill falls while there is work in hand, whatever the speed.
    """
    rng = random.Random(seed)
    runs = 0
    done = 0
    command = [sys.executable, str(REPO / "run.py"), "--config", str(config), "once"]
    environment = {**os.environ, **(env or {})}
    while done < kills:
        assert runs < kills * 5, "the daemon kept finishing before it could be killed"
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment, cwd=REPO)
        runs += 1
        time.sleep(rng.uniform(0.2, max_delay))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            done += 1
        else:
            assert process.returncode == 0, process.stderr.read().decode()
            deliver_more()
        process.stderr.close()
    handled = count_handled()
    final = subprocess.run(command, capture_output=True, env=environment, cwd=REPO, timeout=600)
    assert final.returncode == 0, final.stderr.decode()
    return KillReport(kills=done, runs=runs + 1, handled_before_last_run=handled)


def audit(store_path: Path, message_ids: list[str], draft_reply_ids: list[str]) -> dict[str, int]:
    """Every message in exactly one ticket, at most one draft each, none missing."""
    store = Store(store_path)
    in_tickets: Counter[str] = Counter()
    ticket_id = 1
    misses = 0
    while misses < 50:
        ticket = store.get_ticket(ticket_id)
        ticket_id += 1
        if ticket is None:
            misses += 1
            continue
        misses = 0
        in_tickets.update(ticket.message_keys)
    drafts = Counter(draft_reply_ids)
    return {
        "messages": len(message_ids),
        "not_handled": sum(1 for mid in message_ids if not store.is_handled(mid)),
        "in_no_ticket": sum(1 for mid in message_ids if in_tickets[mid] == 0),
        "in_several_tickets": sum(1 for mid in message_ids if in_tickets[mid] > 1),
        "without_draft": sum(1 for mid in message_ids if drafts[mid] == 0),
        "duplicate_drafts": sum(count - 1 for count in drafts.values() if count > 1),
    }
