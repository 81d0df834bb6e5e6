"""Hostile and mangled mail through the whole daemon: nothing lost, nothing crashes, no reply
goes anywhere strange.

The corpus is our own fixtures, mutated with a fixed seed the way broken mailers and attackers
mangle mail: junk bytes in headers and boundaries, cut-off parts, repeated runs, stray encoded
words and escape sequences. Two parser bugs were found this way; this keeps them found.
"""

from __future__ import annotations

import random
import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import run

ROOT = Path(__file__).resolve().parent.parent
COUNT = 150
JUNK = (
    b"\xff\xfe", b"=?", b"?=", b"=?utf-8?q?=0D=0ABcc:_x@evil.example?=", b"\r", b"\x00", b"\x1b[31m", b"--",
    b'boundary=""', b'; charset="x-bogus"', b"; charset=utf-16", b"base64", b"quoted-printable", b"=\r\n", b"=ZZ",
    "\u202e".encode(), b"<", b">", b"@", b'"', b"(", b"\\", b"\t", b"\n\n", b"\xc3", b"\xa0", b"\x81",
    "注文".encode("gb2312"), b"\x1b$B", b"\x1b(B", b"message/rfc822", b"multipart/mixed",
)


def mutated_corpus(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    sources = sorted((ROOT / "config" / "samples").glob("*.eml")) + sorted((ROOT / "tests" / "mail").glob("*.eml"))
    originals = [path.read_bytes() for path in sources]
    corpus = []
    for number in range(count):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(min(len(data), 800) + 1) if rng.random() < 0.7 else rng.randrange(len(data) + 1)
            roll = rng.random()
            if roll < 0.5:
                data[at:at] = rng.choice(JUNK)
            elif roll < 0.7:
                del data[at : at + rng.randint(1, 30)]
            elif roll < 0.85 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            else:
                piece = bytes(data[at : at + rng.randint(1, 60)])
                data[at:at] = piece * rng.randint(2, 50)
        # A unique Message-ID each, so that none is skipped as a repeat of another.
        unique = re.sub(rb"(?im)^message-id:.*$", b"Message-ID: <m%d@fuzz.example>" % number, bytes(data), count=1)
        corpus.append(unique)
    return corpus


def test_mangled_mail_is_all_handled_and_no_reply_carries_junk_headers(tmp_path, capsys, caplog):
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for number, raw in enumerate(mutated_corpus(COUNT, seed=20261124)):
        (maildir / "new" / f"{1700000000 + number}.m{number}.fuzz").write_bytes(raw)
    config = tmp_path / "aftersale.toml"
    config.write_text(
        '[seller]\nname = "Shop"\naddress = "support@shop.example"\n'
        '[mailbox]\nkind = "maildir"\npath = "Maildir"\n[store]\npath = "state"\n',
        encoding="utf-8",
    )

    status = run.main(["--config", str(config), "once"])
    out = capsys.readouterr().out

    assert status == 0
    summary = re.search(r"(\d+) messages: (.*)", out)
    assert summary and int(summary.group(1)) == COUNT, out[-500:]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) ([a-z-]+)", summary.group(2))}
    assert sum(counts.values()) == COUNT and counts.get("drafted", 0) > COUNT // 2, counts
    assert "parser failure" not in caplog.text
    assert "Traceback" not in caplog.text

    drafts = [path.read_bytes() for sub in ("cur", "new") for path in (maildir / ".Drafts" / sub).iterdir()]
    assert len(drafts) == counts["drafted"]
    for raw in drafts:
        head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", head), head[:300]
        reply = message_from_bytes(raw, policy=default)
        assert not reply.defects
        assert re.fullmatch(r"[^\s@<>]+@[^\s@<>]+", reply["To"].addresses[0].addr_spec)
        assert reply["Bcc"] is None and reply["Cc"] is None
        assert str(reply["Subject"]).startswith("Re: ")

    assert run.main(["--config", str(config), "once"]) == 0
    assert "nothing new" in capsys.readouterr().out
