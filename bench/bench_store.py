"""Does handling one message cost the same with a long history as with a short one?

Builds two stores in a scratch directory, one holding 1,000 tickets and handled messages and
one holding 100,000 (written shard by shard with `Store.bulk_load`, not 100,000 atomic saves),
then times the store's share of handling one message in each, in alternating rounds:

    is it handled? -> find its ticket (references, order id, subject) -> new ticket id ->
    save the ticket -> mark the message handled

and prints both means, their ratio (the aim: below 2) and the peak memory (tracemalloc) of
handling a batch of messages in each. Nothing is asserted: timings belong to this machine.

    python bench/bench_store.py                # under a minute
    python bench/bench_store.py --big 20000    # quicker
    python bench/bench_store.py --no-fsync     # CPU only, without the disk's fsync cost
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon.models import Ticket, TicketEvent  # noqa: E402
from daemon.state import Store  # noqa: E402

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
OPEN_AT_THE_END = 50
"""Old tickets are closed, as in a real shop: only the newest ones are still open."""


def history_ticket(ticket_id: int, total: int) -> Ticket:
    """A ticket shaped like the pipeline's: two messages, our draft, a few events."""
    at = START + timedelta(minutes=ticket_id * 7)
    customer = f"buyer{ticket_id % 40_000}@marketplace.amazon.de"
    events = (
        TicketEvent(at=at, kind="message", detail=f"from {customer}: Where is my order?",
                    data=(("key", f"<c{ticket_id}@mail.example>"), ("text", "Hello, my parcel has not arrived yet. " * 6))),
        TicketEvent(at=at, kind="classified", detail="logistics (0.82, language en)",
                    data=(("logistics:where is", "'where is' +2"), ("logistics:parcel", "'parcel' +1.5"))),
        TicketEvent(at=at, kind="drafted", detail=f"drafted <r{ticket_id}@shop.example> from en/logistics.txt.j2"),
        TicketEvent(at=at, kind="status", detail="new -> drafted"),
    )
    return Ticket(
        id=ticket_id, customer=customer, customer_name="Erika Mustermann", subject=f"Where is my order {ticket_id}?",
        label="logistics", status="closed" if ticket_id <= total - OPEN_AT_THE_END else "drafted", language="en",
        created_at=at, updated_at=at, order_id=f"302-{ticket_id:07d}-1234567",
        message_keys=(f"<c{ticket_id}@mail.example>",),
        message_ids=(f"<c{ticket_id}@mail.example>", f"<r{ticket_id}@shop.example>"),
        draft_ids=(f"<r{ticket_id}@shop.example>",), last_customer_at=at, events=events,
        facts=(("marketplace", "amazon.de"),),
    )


def build(path: Path, size: int) -> Store:
    """Write the history shard by shard in one pass (no fsync: a scratch copy)."""
    store = Store(path, clock=lambda: START, fsync=False)
    store.bulk_load(
        (history_ticket(n, size) for n in range(1, size + 1)),
        ((f"<c{n}@mail.example>", n, "drafted") for n in range(1, size + 1)),
        chunk=size,
    )
    return store


def handle_one(store: Store, size: int, n: int) -> None:
    """The store's work for one new customer message that replies to an old conversation's
    thread in half the cases and starts a new one otherwise."""
    now = START + timedelta(days=3650, seconds=n)
    key = f"<bench-{size}-{n}@mail.example>"
    old = 1 + (n * 7919) % size
    references = [f"<r{old}@shop.example>"] if n % 2 else [f"<unknown-{n}@x>"]
    store.is_handled(key)
    store.find_ticket([key, *references], f"999-{n:07d}", f"new{n}@example.com", f"Question {n}", now, timedelta(days=14))
    ticket = Ticket(
        id=store.new_ticket_id(), customer=f"new{n}@example.com", customer_name="", subject=f"Question {n}",
        label="other", status="new", language="en", created_at=now, updated_at=now, order_id=f"999-{n:07d}",
        message_keys=(key,), message_ids=(key,), last_customer_at=now,
        events=(TicketEvent(at=now, kind="message", detail="from bench", data=(("text", "Hello " * 40),)),),
    )
    store.save_ticket(ticket)
    store.mark_handled(key, ticket.id, "recorded")


def counter() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


def timed_round(store: Store, size: int, numbers: Iterator[int], messages: int) -> list[float]:
    costs = []
    for _ in range(messages):
        n = next(numbers)
        started = time.perf_counter()
        handle_one(store, size, n)
        costs.append(time.perf_counter() - started)
    return costs


def peak_memory(store: Store, size: int, numbers: Iterator[int], messages: int) -> int:
    tracemalloc.start()
    try:
        for _ in range(messages):
            handle_one(store, size, next(numbers))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000, help="tickets in the short history (default 1000)")
    parser.add_argument("--big", type=int, default=100_000, help="tickets in the long history (default 100000)")
    parser.add_argument("--messages", type=int, default=50, help="messages timed per round (default 50)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--no-fsync", action="store_true", help="time without fsync (CPU cost only)")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: a temporary one, removed after)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="aftersale-bench-", dir=args.dir))
    try:
        sizes = (args.small, args.big)
        stores = {}
        for size in sizes:
            started = time.perf_counter()
            build(scratch / f"history-{size}", size)
            print(f"built a history of {size:,} tickets in {time.perf_counter() - started:.1f} s")
            stores[size] = Store(scratch / f"history-{size}", fsync=not args.no_fsync)
        numbers = {size: counter() for size in sizes}
        costs: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(args.rounds):
            for size in sizes:
                costs[size] += timed_round(stores[size], size, numbers[size], args.messages)
        peaks = {size: peak_memory(stores[size], size, numbers[size], args.messages) for size in sizes}

        fsync_note = "without fsync" if args.no_fsync else "with fsync"
        print(f"\nstore cost of handling one message ({fsync_note}, {args.rounds * args.messages} messages each):")
        means = {}
        for size in sizes:
            means[size] = statistics.fmean(costs[size])
            median = statistics.median(costs[size])
            print(
                f"  history {size:>9,}: mean {means[size] * 1000:7.2f} ms  median {median * 1000:7.2f} ms  "
                f"peak memory {peaks[size] / 1024:8.0f} KiB over {args.messages} messages"
            )
        ratio = means[args.big] / means[args.small]
        verdict = "flat" if ratio < 2 else "GROWS WITH HISTORY"
        print(f"  ratio {args.big:,} / {args.small:,}: {ratio:.2f} (target below 2: {verdict})")
        print(f"  peak memory ratio: {peaks[args.big] / peaks[args.small]:.2f}")
        stats = stores[args.big].stats()
        print(f"  long history on disk: {stats['files']:,} files, {stats['bytes'] / 1e6:.1f} MB, "
              f"largest {stats['largest_file']} ({stats['largest_bytes'] / 1024:.0f} KiB)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
