"""The state store: what Aftersale remembers must survive crashes, restarts and years of mail."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon.errors import StoreError, StoreLockedError
from daemon.models import Ticket, TicketEvent
from daemon.state import AtomicJSONStorage, FollowUp, Intent, Store, TicketSummary, normalise_subject

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 3, 14, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(state_dir: Path) -> Store:
    return Store(state_dir, clock=lambda: NOW, fsync=False)


def make_ticket(store: Store, **changes: object) -> Ticket:
    ticket = Ticket(
        id=store.new_ticket_id(),
        customer="ann@marketplace.amazon.de",
        customer_name="Ann Example",
        subject="Where is my parcel?",
        label="logistics",
        status="new",
        language="en",
        created_at=NOW,
        updated_at=NOW,
        order_id="",
        message_keys=("<c1@mail.example>",),
        message_ids=("<c1@mail.example>",),
        last_customer_at=NOW,
        events=(TicketEvent(at=NOW, kind="message", detail="from ann", data=(("text", "Where is it?"),)),),
    )
    ticket = replace(ticket, **changes)
    store.save_ticket(ticket)
    return ticket


def follow_up(ticket_id: int, step: str = "satisfaction", due: datetime = NOW + timedelta(days=3)) -> FollowUp:
    return FollowUp(
        id=f"{ticket_id}:{step}", ticket_id=ticket_id, step=step, template="satisfaction",
        due_at=due, label="logistics", created_at=NOW,
    )


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    """A second Aftersale process: file locks are per process, so only another process
    shows whether they really keep two writers apart."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


# -- atomic, private files ---------------------------------------------------------------------


class FailingMidWrite(AtomicJSONStorage):
    """The disk fills up after half the new content is written."""

    def _write_payload(self, handle, payload: bytes) -> None:
        handle.write(payload[: len(payload) // 2])
        handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_that_fails_midway_leaves_the_old_content(tmp_path: Path):
    path = tmp_path / "cursors.json"
    AtomicJSONStorage(path, fsync=False).write({"_default": {"1": {"key": "inbox", "value": "old"}}})
    before = path.read_bytes()

    with pytest.raises(StoreError, match="cursors.json.*No space left"):
        FailingMidWrite(path, fsync=False).write({"_default": {"1": {"key": "inbox", "value": "new" * 1000}}})

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cursors.json"], "the temporary file is cleaned up"


def test_a_write_that_cannot_replace_its_target_fails_with_the_file_named(tmp_path: Path):
    target = tmp_path / "open.json"
    target.mkdir()

    with pytest.raises(StoreError, match=r"could not write state file .*open\.json"):
        AtomicJSONStorage(target, fsync=False).write({"_default": {}})

    assert target.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["open.json"]


def test_state_files_are_private_to_the_seller(state_dir: Path):
    store = Store(state_dir, clock=lambda: NOW)  # fsync on: the real path
    ticket = make_ticket(store, order_id="302-1234567-1234567")
    store.mark_handled("<c1@mail.example>", ticket.id, "drafted")
    store.schedule_follow_up(follow_up(ticket.id))
    with store.claim_daemon():
        pass

    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    paths = list(state_dir.rglob("*"))
    assert any(p.parent.name == "handled" for p in paths)
    for path in paths:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_every_state_file_is_a_plain_tinydb_database(store: Store, state_dir: Path):
    make_ticket(store)
    store.set_cursor("maildir:inbox", "42")

    for path in state_dir.rglob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert list(document) == ["_default"], path
        assert all(doc_id.isdigit() for doc_id in document["_default"]), path


def test_saving_a_ticket_rewrites_only_its_own_small_files(store: Store, state_dir: Path):
    """The cost of one message must not grow with history: a save touches the ticket's shard,
    the index shards of its keys and its open-summary shard, and nothing else."""
    ticket = make_ticket(store)
    history = [replace(ticket, id=n, message_ids=(f"<m{n}@x>",), order_id=f"ORDER-{n}", subject=f"Question {n}") for n in range(1, 251)]
    store.bulk_load(history)
    before = {path: path.stat().st_ino for path in state_dir.rglob("*.json")}

    store.save_ticket(replace(history[120], status="drafted", message_ids=(*history[120].message_ids, "<reply@shop>")))

    after = {path: path.stat().st_ino for path in state_dir.rglob("*.json")}
    rewritten = sorted(str(path.relative_to(state_dir)) for path in after if before.get(path) != after[path])
    assert "tickets/1.json" in rewritten and "open/1.json" in rewritten
    assert all(name in {"tickets/1.json", "open/1.json"} or name.startswith("index/") for name in rewritten)
    assert sum(name.startswith("index/") for name in rewritten) == 1, "only the new reply's key was new"


# -- handled messages --------------------------------------------------------------------------


def test_a_handled_message_is_remembered_after_a_restart(store: Store, state_dir: Path):
    store.mark_handled("<c1@mail.example>", 7, "drafted", ref="cur/1700000000.M1P2.host:2,S")

    again = Store(state_dir)
    assert again.is_handled("<c1@mail.example>")
    assert not again.is_handled("<c2@mail.example>")
    record = again.handled_record("<c1@mail.example>")
    assert record is not None
    assert (record["ticket_id"], record["outcome"], record["at"]) == (7, "drafted", NOW.isoformat())
    assert record["ref"] == "cur/1700000000.M1P2.host:2,S"


def test_handled_messages_are_spread_over_hashed_shards(store: Store, state_dir: Path):
    for n in range(40):
        store.mark_handled(f"<m{n}@x>", None, "guarded")

    shards = list((state_dir / "handled").iterdir())
    assert len(shards) > 20
    assert all(len(path.stem) == 3 and int(path.stem, 16) >= 0 for path in shards)
    assert all(store.is_handled(f"<m{n}@x>") for n in range(40))


# -- tickets -----------------------------------------------------------------------------------


def test_a_ticket_comes_back_exactly_as_it_was_saved(store: Store, state_dir: Path):
    berlin = timezone(timedelta(hours=1))
    ticket = make_ticket(
        store,
        subject="Wo ist mein Paket? 荷物はどこ \udcff",  # a lone surrogate, as hostile mail can leave
        order_id="302-1234567-1234567",
        draft_ids=("<r1@shop.example>",),
        message_ids=("<c1@mail.example>", "<r1@shop.example>"),
        answered_at=datetime(2024, 3, 14, 11, 0, tzinfo=berlin),
        facts=(("marketplace", "amazon.de"), ("comm_token", "[commMgrTok:ABC]")),
        events=(
            TicketEvent(at=NOW, kind="message", detail="from ann", data=(("key", "<c1@mail.example>"), ("text", "Hallo"))),
            TicketEvent(at=NOW, kind="classified", detail="logistics (0.80)"),
        ),
    )

    again = Store(state_dir).get_ticket(ticket.id)

    assert again == ticket
    assert again.answered_at.utcoffset() == timedelta(hours=1)


def test_an_unknown_ticket_is_none(store: Store):
    assert store.get_ticket(12345) is None


def test_ticket_ids_keep_counting_after_a_restart(store: Store, state_dir: Path):
    first = store.new_ticket_id()
    second = store.new_ticket_id()

    assert second == first + 1
    assert Store(state_dir).new_ticket_id() == second + 1


def test_tickets_are_kept_a_hundred_to_a_shard(store: Store, state_dir: Path):
    ticket = make_ticket(store)
    for ticket_id in (99, 100, 150, 205):
        store.save_ticket(replace(ticket, id=ticket_id, subject=f"Ticket {ticket_id}"))

    assert sorted(p.name for p in (state_dir / "tickets").iterdir()) == ["0.json", "1.json", "2.json"]
    assert len(json.loads((state_dir / "tickets" / "1.json").read_text())["_default"]) == 2
    assert store.get_ticket(150).subject == "Ticket 150"


def test_open_list_shrinks_when_a_ticket_closes(store: Store):
    first = make_ticket(store)
    second = make_ticket(store, subject="Cancel please", label="cancellation")
    assert [summary.id for summary in store.open_tickets()] == [first.id, second.id]

    store.save_ticket(replace(first, status="closed"))

    assert [summary.id for summary in store.open_tickets()] == [second.id]
    assert store.get_ticket(first.id).status == "closed", "closing keeps the ticket itself"


def test_open_list_carries_what_the_ticket_list_and_clock_need(store: Store):
    ticket = make_ticket(store, order_id="302-1", status="drafted")

    (summary,) = store.open_tickets()

    assert summary == TicketSummary(
        id=ticket.id, customer=ticket.customer, customer_name="Ann Example", subject="Where is my parcel?",
        label="logistics", status="drafted", language="en", created_at=NOW, updated_at=NOW,
        last_customer_at=NOW, answered_at=None, order_id="302-1",
    )


def test_a_resolved_ticket_stays_listed_until_it_is_closed(store: Store):
    """The auto-close sweep finds resolved tickets in the open list."""
    ticket = make_ticket(store)
    store.save_ticket(replace(ticket, status="resolved"))

    assert [summary.status for summary in store.open_tickets()] == ["resolved"]


# -- threading ---------------------------------------------------------------------------------


WINDOW = timedelta(days=14)


def test_a_reply_finds_its_ticket_by_its_references(store: Store):
    ticket = make_ticket(store, message_ids=("<c1@mail.example>", "<r1@shop.example>"))
    make_ticket(store, customer="bob@example.com", message_ids=("<other@x>",), subject="Other")

    found = store.find_ticket(["<new@mail.example>", "<r1@shop.example>"], "", "zoe@example.com", "Hi", NOW, WINDOW)

    assert found.id == ticket.id


def test_message_ids_match_with_or_without_angle_brackets(store: Store):
    ticket = make_ticket(store, message_ids=("<c1@mail.example>",))

    assert store.find_ticket([" c1@mail.example "], "", "", "", NOW, timedelta(0)).id == ticket.id


def test_a_message_finds_its_ticket_by_order_id(store: Store):
    ticket = make_ticket(store, order_id="302-1234567-1234567")

    found = store.find_ticket(["<unknown@x>", ""], "302-1234567-1234567", "someone@else", "New topic", NOW, WINDOW)

    assert found.id == ticket.id


def test_references_win_over_the_order_id(store: Store):
    by_reference = make_ticket(store, message_ids=("<c1@mail.example>",))
    make_ticket(store, message_ids=("<c2@mail.example>",), order_id="302-9")

    assert store.find_ticket(["<c1@mail.example>"], "302-9", "", "", NOW, WINDOW).id == by_reference.id


@pytest.mark.parametrize(
    "subject",
    [
        "AW: Where is my parcel?",
        "Re: RE: Fwd: where is my  PARCEL?",
        "WG: [Amazon] Where is my parcel?",
        "TR: Where is my parcel?",
        "Rif: R: Where is my parcel?",
        "回复: Where is my parcel?",
        "転送：Where is my parcel?",
    ],
)
def test_a_message_with_the_same_subject_joins_a_recent_ticket(store: Store, subject: str):
    ticket = make_ticket(store, updated_at=NOW - timedelta(days=3))

    found = store.find_ticket([], "", "Ann@Marketplace.Amazon.de", subject, NOW, WINDOW)

    assert found.id == ticket.id


def test_the_same_subject_outside_the_window_starts_a_new_ticket(store: Store):
    make_ticket(store, updated_at=NOW - timedelta(days=30))

    assert store.find_ticket([], "", "ann@marketplace.amazon.de", "Re: Where is my parcel?", NOW, WINDOW) is None


def test_the_same_subject_from_another_customer_is_another_ticket(store: Store):
    make_ticket(store)

    assert store.find_ticket([], "", "bob@example.com", "Where is my parcel?", NOW, WINDOW) is None


def test_a_message_without_any_thread_finds_nothing(store: Store):
    make_ticket(store)

    assert store.find_ticket(["", "<nope@x>"], "", "", "", NOW, WINDOW) is None


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("Re: Where is my order?", "where is my order?"),
        ("AW: WG: Bestellung 302-1", "bestellung 302-1"),
        ("TR : Réf: Commande", "commande"),
        ("RE: [Ticket #12] Pedido   retrasado", "pedido retrasado"),
        ("Rif: R: Ordine", "ordine"),
        ("回复：答复: 订单问题", "订单问题"),
        ("転送: 【重要】 注文について", "注文について"),
        ("Re[2]: Fw: hello", "hello"),
        ("Rechnung fehlt", "rechnung fehlt"),
        ("   ", ""),
    ],
)
def test_subjects_are_normalised_across_languages(subject: str, expected: str):
    assert normalise_subject(subject) == expected


# -- cursors -----------------------------------------------------------------------------------


def test_a_cursor_is_empty_until_set_and_survives_a_restart(store: Store, state_dir: Path):
    assert store.get_cursor("maildir:inbox") == ""

    store.set_cursor("maildir:inbox", "1700000000.M1")
    store.set_cursor("imap:sent", "5:10")

    again = Store(state_dir)
    assert again.get_cursor("maildir:inbox") == "1700000000.M1"
    assert again.get_cursor("imap:sent") == "5:10"


# -- intents -----------------------------------------------------------------------------------


def test_an_intent_stays_open_until_finished_even_across_a_restart(store: Store, state_dir: Path):
    intent = Intent(
        id="<r1@shop.example>", kind="send", message_id="<r1@shop.example>", ticket_id=3,
        message_key="<c1@mail.example>", created_at=NOW, raw=b"Subject: Re: hi\r\n\r\n\xe2\x9c\x93 done\r\n", purpose="reply",
    )
    store.add_intent(intent)

    assert Store(state_dir).open_intents() == [intent]

    store.finish_intent(intent.id)
    assert store.open_intents() == []


# -- follow-ups --------------------------------------------------------------------------------


def test_a_follow_up_is_due_only_when_its_time_comes(store: Store):
    store.schedule_follow_up(follow_up(1, due=NOW + timedelta(days=3)))

    assert store.due_follow_ups(NOW) == []
    assert [fu.id for fu in store.due_follow_ups(NOW + timedelta(days=3))] == ["1:satisfaction"]
    assert [fu.id for fu in store.pending_follow_ups(1)] == ["1:satisfaction"]
    assert store.pending_follow_ups(2) == []


def test_scheduling_the_same_step_twice_keeps_one(store: Store):
    assert store.schedule_follow_up(follow_up(1)) is True
    assert store.schedule_follow_up(follow_up(1, due=NOW + timedelta(days=9))) is False

    (pending,) = store.pending_follow_ups(1)
    assert pending.due_at == NOW + timedelta(days=3)


def test_a_finished_step_is_never_scheduled_again(store: Store, state_dir: Path):
    store.schedule_follow_up(follow_up(1))
    store.finish_follow_up("1:satisfaction", "sent")

    assert store.pending_follow_ups(1) == []
    assert Store(state_dir).schedule_follow_up(follow_up(1)) is False
    assert store.due_follow_ups(NOW + timedelta(days=30)) == []


def test_customer_reply_cancels_pending_follow_ups_for_good(store: Store):
    store.schedule_follow_up(follow_up(1, "satisfaction"))
    store.schedule_follow_up(follow_up(1, "review_request"))
    store.schedule_follow_up(follow_up(2, "satisfaction"))

    cancelled = store.cancel_follow_ups(1, "customer wrote again")

    assert sorted(fu.step for fu in cancelled) == ["review_request", "satisfaction"]
    assert store.pending_follow_ups(1) == []
    assert [fu.id for fu in store.pending_follow_ups(2)] == ["2:satisfaction"]
    assert store.schedule_follow_up(follow_up(1, "satisfaction")) is False
    assert store.cancel_follow_ups(1, "again") == []


# -- relabels and the daily cap ----------------------------------------------------------------


def test_relabels_are_kept_as_training_data_month_by_month(state_dir: Path):
    moments = iter([datetime(2024, 2, 28, tzinfo=timezone.utc), datetime(2024, 3, 1, tzinfo=timezone.utc)])
    store = Store(state_dir, clock=lambda: next(moments), fsync=False)

    store.record_relabel(4, "other", "cancellation", "Bitte stornieren Sie meine Bestellung", "de")
    store.record_relabel(5, "logistics", "address_change", "住所を変更したい", "ja")

    records = list(Store(state_dir).relabels())
    assert [(r["ticket_id"], r["old"], r["new"], r["language"]) for r in records] == [
        (4, "other", "cancellation", "de"),
        (5, "logistics", "address_change", "ja"),
    ]
    assert records[1]["text"] == "住所を変更したい"
    assert sorted(p.name for p in (state_dir / "relabels").iterdir()) == ["2024-02.json", "2024-03.json"]


def test_automatic_messages_are_counted_per_customer_per_day(store: Store):
    today = date(2024, 3, 14)

    assert store.auto_sent_today("ann@x", today) == 0
    store.count_auto_sent("ann@x", today)
    assert store.count_auto_sent("ANN@x", today) == 2

    assert store.auto_sent_today("ann@x", today) == 2
    assert store.auto_sent_today("bob@x", today) == 0
    assert store.auto_sent_today("ann@x", today + timedelta(days=1)) == 0


def test_old_days_of_the_daily_cap_are_pruned(store: Store, state_dir: Path):
    store.count_auto_sent("ann@x", date(2024, 1, 1))
    store.count_auto_sent("ann@x", date(2024, 3, 14))

    assert [p.name for p in (state_dir / "auto_sent").iterdir()] == ["2024-03-14.json"]


# -- locks -------------------------------------------------------------------------------------


HOLD_DAEMON = """
    import sys
    from pathlib import Path
    from daemon.state import Store
    with Store(Path(sys.argv[1])).claim_daemon():
        print("holding", flush=True)
        sys.stdin.readline()
"""


def test_a_second_daemon_on_the_same_store_is_refused(state_dir: Path):
    Store(state_dir)
    child = run_child(HOLD_DAEMON, str(state_dir))
    try:
        assert child.stdout.readline().strip() == "holding", child.stderr.read()
        with pytest.raises(StoreLockedError) as refused:
            with Store(state_dir).claim_daemon():
                pass
        assert str(refused.value) == f"state dir {state_dir} is in use by another aftersale process (pid {child.pid})"
    finally:
        child.communicate("\n", timeout=30)

    with Store(state_dir).claim_daemon():
        assert (state_dir / ".daemon.pid").read_text().strip() == str(os.getpid())
    assert not (state_dir / ".daemon.pid").exists()


def test_temp_files_of_a_killed_writer_are_removed_when_the_daemon_starts(state_dir: Path):
    store = Store(state_dir, clock=lambda: NOW)
    make_ticket(store, order_id="302-1234567-1234567")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)  # a process that has exited: its pid is free
    left_over = state_dir / "tickets" / f".0.json.{dead_pid}.0123abcd.tmp"
    in_progress = state_dir / "tickets" / f".0.json.{os.getpid()}.89abcdef.tmp"
    left_over.write_bytes(b'{"half": ')
    in_progress.write_bytes(b'{"being": ')

    with store.claim_daemon():
        pass

    assert not left_over.exists()
    assert in_progress.exists(), "a file whose writer still runs is not touched"
    assert store.get_ticket(1) is not None


HOLD_WRITER = """
    import sys
    from pathlib import Path
    from daemon.state import Store
    with Store(Path(sys.argv[1])).writer():
        print("holding", flush=True)
        sys.stdin.readline()
"""


def test_a_writer_waits_for_the_write_lock_then_gives_up_with_one_line(state_dir: Path):
    child = run_child(HOLD_WRITER, str(state_dir))
    try:
        assert child.stdout.readline().strip() == "holding", child.stderr.read()
        impatient = Store(state_dir, lock_timeout=0.2)
        with pytest.raises(StoreLockedError, match=r"is busy: its write lock") as refused:
            impatient.set_cursor("maildir:inbox", "1")
        assert "\n" not in str(refused.value)
        assert impatient.get_cursor("maildir:inbox") == "", "reads need no lock"
    finally:
        child.communicate("\n", timeout=30)


COUNT = """
    import sys
    from datetime import date
    from pathlib import Path
    from daemon.state import Store
    store = Store(Path(sys.argv[1]), fsync=False)
    for _ in range(50):
        store.count_auto_sent("ann@x", date(2024, 3, 14))
"""


def test_two_processes_writing_at_once_lose_no_update(state_dir: Path):
    Store(state_dir)
    children = [run_child(COUNT, str(state_dir)) for _ in range(2)]
    for child in children:
        _, errors = child.communicate(timeout=60)
        assert child.returncode == 0, errors

    assert Store(state_dir).auto_sent_today("ann@x", date(2024, 3, 14)) == 100


def test_the_write_lock_is_reentrant(store: Store):
    with store.writer():
        with store.writer():
            store.set_cursor("maildir:inbox", "7")

    assert store.get_cursor("maildir:inbox") == "7"


# -- damage is reported, never papered over ----------------------------------------------------


@pytest.mark.parametrize("content", [b'{"_default": {"1": {"key": ', b"", b"[1, 2]", b"\xff\xfe garbage"])
def test_a_damaged_file_is_reported_by_name_and_left_alone(store: Store, state_dir: Path, content: bytes):
    store.mark_handled("<c1@mail.example>", 1, "drafted")
    (shard,) = (state_dir / "handled").iterdir()
    shard.write_bytes(content)

    with pytest.raises(StoreError, match=f"state file {shard}"):
        store.is_handled("<c1@mail.example>")
    with pytest.raises(StoreError):
        store.mark_handled("<c1@mail.example>", 1, "drafted")
    assert shard.read_bytes() == content


def test_a_damaged_ticket_record_names_its_file(store: Store, state_dir: Path):
    ticket = make_ticket(store)
    path = state_dir / "tickets" / "0.json"
    document = json.loads(path.read_text())
    document["_default"]["1"]["created_at"] = "yesterday"
    path.write_text(json.dumps(document))

    with pytest.raises(StoreError, match=r"tickets/0\.json: record '1' is damaged"):
        store.get_ticket(ticket.id)


def test_a_damaged_meta_file_stops_the_store_from_opening(state_dir: Path):
    Store(state_dir).new_ticket_id()
    (state_dir / "meta.json").write_text("{not json")

    with pytest.raises(StoreError, match="meta.json"):
        Store(state_dir)


def test_a_store_written_by_a_newer_version_is_refused(state_dir: Path):
    state_dir.mkdir()
    (state_dir / "meta.json").write_text(json.dumps({"_default": {"1": {"key": "schema", "value": 99}}}))

    with pytest.raises(StoreError, match="newer Aftersale"):
        Store(state_dir)


def test_a_state_path_that_is_a_file_is_refused(tmp_path: Path):
    path = tmp_path / "state"
    path.write_text("oops")

    with pytest.raises(StoreError, match="not a directory"):
        Store(path)


# -- bulk import and health --------------------------------------------------------------------


def test_bulk_loaded_history_is_found_like_saved_tickets(store: Store):
    history = [
        Ticket(
            id=n, customer=f"c{n}@x", customer_name="", subject=f"Order {n}", label="other", status="closed" if n < 290 else "new",
            language="en", created_at=NOW, updated_at=NOW, order_id=f"O-{n}", message_ids=(f"<m{n}@x>",),
        )
        for n in range(1, 301)
    ]

    store.bulk_load(history, [(f"<m{n}@x>", n, "drafted") for n in range(1, 301)], chunk=120)

    assert store.find_ticket(["<m150@x>"], "", "", "", NOW, WINDOW).id == 150
    assert store.find_ticket([], "O-7", "", "", NOW, WINDOW).id == 7
    assert store.is_handled("<m300@x>")
    assert [summary.id for summary in store.open_tickets()] == list(range(290, 301))
    assert store.new_ticket_id() == 301


def test_stats_show_what_the_store_holds(store: Store):
    ticket = make_ticket(store)
    store.mark_handled("<c1@mail.example>", ticket.id, "drafted")
    store.schedule_follow_up(follow_up(ticket.id))

    stats = store.stats()

    assert (stats["open_tickets"], stats["pending_follow_ups"], stats["open_intents"]) == (1, 1, 0)
    assert (stats["handled_shards"], stats["ticket_shards"]) == (1, 1)
    assert stats["bytes"] > 0 and stats["largest_file"].endswith(".json")
