"""The demo mail and the English reply templates that ship with Aftersale.

`run.py init` copies config/samples/*.eml into a fresh Maildir and the end-to-end tests check the
daemon against config/samples/expected.toml, so the manifest, the files and their MIME must agree.
The templates are what a seller's buyers read: they must render for every context the daemon
builds and keep to Amazon's messaging rules (no links, addresses or phone numbers, nothing about
reviews, cancellation through the buyer's order page).
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import jinja2
import jinja2.meta
import pytest

from daemon.models import LABELS

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "config" / "samples"
TEMPLATES = REPO / "templates" / "en"
SELLER_ADDRESS = "support@northwind-home.example"

KINDS = ("customer", "robot", "broken")
TEMPLATE_NAMES = (*LABELS, "followup_check_arrived", "followup_satisfaction")
ORDER_NAMES = ("product_name", "sku", "order_status", "channel", "carrier", "tracking_number", "expected_date", "reason")
"""Order facts and the failure reason (the playbooks); empty when the order is unknown."""
CONTEXT_NAMES = frozenset(
    {"customer_name", "order_id", "subject", "seller_name", "signature", "label", "photos_received", "marketplace", "is_amazon", *ORDER_NAMES}
)

URL = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|de|fr|co\.uk|example)\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d ()./-]{6,}\d")
REVIEW_WORDS = re.compile(r"\b(?:reviews?|feedback|ratings?|rate|stars?)\b", re.IGNORECASE)
MARKETING_WORDS = re.compile(r"\b(?:discount|coupon|voucher|promo(?:tion)?|sale|% off|free gift|newsletter|follow us)\b", re.IGNORECASE)
PHOTO_REQUEST = re.compile(r"\b(?:send|attach|share)\b[^.?!]*\bphotos?\b", re.IGNORECASE)
RELAY_BEGIN = re.compile(r"-{5,}\s*(?:Begin message|Anfang der Nachricht|Début du message|Inizio messaggio|Iniciar mensaje|メッセージはここから)\s*-{5,}")
RELAY_END = re.compile(r"-{5,}\s*(?:End message|Ende der Nachricht|Fin du message|Fine messaggio|Finalizar mensaje|メッセージはここまで)\s*-{5,}")
AMAZON_ORDER = re.compile(r"\d{3}-\d{7}-\d{7}")
ROBOT_LOCAL_PART = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply)$", re.IGNORECASE)


# -- samples -----------------------------------------------------------------------------------


@functools.cache
def manifest() -> dict[str, dict[str, str]]:
    return tomllib.loads((SAMPLES / "expected.toml").read_text(encoding="utf-8"))


def names_of(kind: str) -> list[str]:
    return sorted(name for name, entry in manifest().items() if entry["kind"] == kind)


def parsed(name: str) -> EmailMessage:
    return message_from_bytes((SAMPLES / name).read_bytes(), policy=default)


def text_of(message: EmailMessage) -> str:
    """Every text part, decoded: what a reader of the message would see."""
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def robot_marks(message: EmailMessage) -> list[str]:
    marks = []
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        marks.append("auto-submitted")
    if str(message.get("Precedence", "")).strip().lower() in {"bulk", "list", "junk"}:
        marks.append("precedence")
    if message.get("List-Unsubscribe") or message.get("List-Id"):
        marks.append("list")
    if str(message.get("Return-Path", "")).strip() == "<>":
        marks.append("empty return-path")
    if message.get("X-Auto-Response-Suppress"):
        marks.append("auto-response-suppress")
    sender = message["From"].addresses[0].addr_spec if message["From"] and message["From"].addresses else ""
    if ROBOT_LOCAL_PART.match(sender.partition("@")[0]):
        marks.append("robot sender")
    return marks


def test_every_sample_file_is_in_the_manifest_and_every_entry_has_a_file():
    on_disk = {path.name for path in SAMPLES.iterdir()}
    assert on_disk - {"expected.toml"} == set(manifest()), "config/samples holds only the listed .eml files"
    assert all(name.endswith(".eml") for name in manifest())


@pytest.mark.parametrize("name", sorted(manifest()))
def test_manifest_entry_names_its_label_kind_and_a_one_line_reason(name):
    entry = manifest()[name]
    assert set(entry) == {"label", "kind", "why"}
    assert entry["label"] in LABELS and entry["kind"] in KINDS
    assert entry["why"].strip() and "\n" not in entry["why"]
    assert re.fullmatch(rf"\d\d-{entry['label']}-[a-z0-9-]+\.eml", name), "files are named NN-<label>-<short>.eml"


def test_customer_samples_cover_every_label_with_a_realistic_mix():
    customers = names_of("customer")
    assert len(customers) >= 36
    for label in LABELS:
        assert sum(manifest()[name]["label"] == label for name in customers) >= 5, label
    assert len(names_of("robot")) >= 4 and len(names_of("broken")) >= 5


@pytest.mark.parametrize("name", names_of("customer") + names_of("robot"))
def test_readable_samples_are_clean_mime_addressed_to_the_seller(name):
    message = parsed(name)
    defects = [defect for part in message.walk() for defect in part.defects]
    assert not defects, defects
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message["Date"].datetime.year == 2026
    assert SELLER_ADDRESS in [address.addr_spec for address in message["To"].addresses]
    sender = message["From"].addresses[0]
    assert "@" in sender.addr_spec and sender.domain
    assert text_of(message).strip()


def test_sample_message_ids_are_unique():
    ids = [str(parsed(name)["Message-ID"]) for name in names_of("customer") + names_of("robot")]
    assert len(ids) == len(set(ids))


def test_each_customer_sample_comes_from_its_own_sender():
    """Per-customer caps and ticket threading must not hide a sample from the demo."""
    senders = [parsed(name)["From"].addresses[0].addr_spec.lower() for name in names_of("customer")]
    assert len(senders) == len(set(senders))


@pytest.mark.parametrize("name", names_of("customer"))
def test_customer_samples_carry_no_robot_marks(name):
    assert robot_marks(parsed(name)) == []


@pytest.mark.parametrize("name", names_of("robot"))
def test_robot_samples_carry_at_least_one_robot_mark(name):
    assert robot_marks(parsed(name))


def test_amazon_relay_samples_wrap_the_buyer_text_in_markers_and_carry_a_thread_token():
    relays = [name for name in names_of("customer") if "@marketplace.amazon." in parsed(name)["From"].addresses[0].addr_spec]
    markets = {parsed(name)["From"].addresses[0].domain for name in relays}
    assert {"marketplace.amazon.com", "marketplace.amazon.co.uk", "marketplace.amazon.de", "marketplace.amazon.fr", "marketplace.amazon.co.jp"} <= markets
    for name in relays:
        message = parsed(name)
        body = message.get_body(("plain",)).get_content()
        assert RELAY_BEGIN.search(body) and RELAY_END.search(body), name
        assert RELAY_BEGIN.search(body).start() < RELAY_END.search(body).start(), name
        assert re.search(r"\[commMgrTok:[A-Z0-9]+\]", body), name
        assert AMAZON_ORDER.search(str(message["Subject"])) or "Order" not in str(message["Subject"]), name
        assert str(message["From"].addresses[0].display_name).endswith(("Amazon Marketplace", "Marketplace Amazon", "Amazon マーケットプレイス")), name


def test_samples_cover_the_encodings_and_shapes_buyers_send():
    charsets, encodings, shapes = set(), set(), set()
    threaded = 0
    for name in names_of("customer"):
        message = parsed(name)
        shapes.add(message.get_content_type())
        threaded += bool(message["In-Reply-To"] and message["References"])
        for part in message.walk():
            if part.get_content_maintype() == "text":
                charsets.add(str(part.get_content_charset()).lower())
                encodings.add(part.get("Content-Transfer-Encoding", "7bit").lower())
    assert {"windows-1252", "iso-2022-jp", "gb2312", "utf-8"} <= charsets
    assert {"quoted-printable", "base64", "8bit", "7bit"} <= encodings
    assert {"text/plain", "text/html", "multipart/alternative", "multipart/mixed"} <= shapes
    assert threaded >= 2


def test_the_damaged_item_sample_carries_a_real_png_photo():
    photos = [
        part
        for name in names_of("customer")
        if manifest()[name]["label"] == "dissatisfaction"
        for part in parsed(name).walk()
        if part.get_content_type() == "image/png"
    ]
    assert photos
    data = photos[0].get_content()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")


def broken_because(data: bytes) -> str:
    """Why a reader cannot use this message as it stands, or "" when nothing is wrong."""
    if not data.strip():
        return "empty"
    message = message_from_bytes(data, policy=default)
    if not message.keys() or message.defects:
        return f"not a message: {message.defects}"
    for part in message.walk():
        if part.defects:
            return f"MIME defects: {part.defects}"
        if part.get_content_maintype() == "text":
            try:
                part.get_content()
            except LookupError as exc:
                return f"undecodable: {exc}"
    sender = message["From"]
    if sender is None or sender.defects or not all(address.domain for address in sender.addresses):
        return "no usable sender"
    return ""


@pytest.mark.parametrize("name", names_of("broken"))
def test_broken_samples_are_broken_in_a_way_a_parser_can_detect(name):
    assert broken_because((SAMPLES / name).read_bytes())


def test_the_broken_set_holds_an_empty_file_and_binary_junk():
    sizes = {name: (SAMPLES / name).stat().st_size for name in names_of("broken")}
    assert 0 in sizes.values()
    junk = [name for name in names_of("broken") if b"\x00" in (SAMPLES / name).read_bytes()]
    assert junk, "random bytes contain NULs; no mail does"


# -- templates ---------------------------------------------------------------------------------


@functools.cache
def environments() -> tuple[jinja2.Environment, ...]:
    """A bare StrictUndefined environment and the daemon's tidier one must render the same text."""
    loader = jinja2.FileSystemLoader(str(TEMPLATES))
    return (
        jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined),
        jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True),
    )


def contexts() -> list[dict[str, object]]:
    combos = itertools.product(
        ("Ann Lee", ""),
        ("302-5518274-9931046", ""),
        (True, False),
        ("amazon.de", ""),
        ("Anna\nNorthwind Home Goods", ""),
    )
    return [
        {
            "customer_name": name,
            "order_id": order,
            "subject": "Re: Kettle arrived damaged",
            "seller_name": "Northwind Home Goods",
            "signature": signature,
            "label": "dissatisfaction",
            "photos_received": photos,
            "marketplace": marketplace,
            "is_amazon": bool(marketplace),
            **{key: "" for key in ORDER_NAMES},
        }
        for name, order, photos, marketplace, signature in combos
    ]


def render(name: str, context: dict[str, object]) -> str:
    outputs = {env.get_template(f"{name}.txt.j2").render(**context) for env in environments()}
    assert len(outputs) == 1, f"{name}: whitespace differs between environments"
    return outputs.pop()


def test_there_is_one_template_per_label_and_per_follow_up():
    assert {path.name for path in TEMPLATES.glob("*.txt.j2")} >= {f"{name}.txt.j2" for name in TEMPLATE_NAMES}


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_uses_only_the_documented_context_names(name):
    env = environments()[0]
    source = (TEMPLATES / f"{name}.txt.j2").read_text(encoding="utf-8")
    assert jinja2.meta.find_undeclared_variables(env.parse(source)) <= CONTEXT_NAMES
    assert not source.lower().startswith("subject"), "a template is the body only"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_renders_a_tidy_body_for_every_context(name):
    for context in contexts():
        body = render(name, context)
        assert body.startswith("Hello"), "no blank lines above the greeting"
        assert "\n\n\n" not in body and not body.endswith("\n\n")
        assert all(line == line.rstrip() for line in body.splitlines())
        first = body.splitlines()[0]
        assert first == (f"Hello {context['customer_name']}," if context["customer_name"] else "Hello,")
        assert ("302-5518274-9931046" in body) == bool(context["order_id"])
        assert "order ." not in body and "order ," not in body and "()" not in body
        closing = str(context["signature"] or context["seller_name"])
        assert body.rstrip().endswith(closing)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_keeps_to_amazon_messaging_rules(name):
    for context in contexts():
        body = render(name, context)
        without_order = body.replace(str(context["order_id"]), "") if context["order_id"] else body
        assert not URL.search(body), f"{name}: link"
        assert not EMAIL.search(body), f"{name}: email address"
        assert not PHONE.search(without_order), f"{name}: phone number"
        assert not REVIEW_WORDS.search(body), f"{name}: reviews are never asked for, bargained for or discussed"
        assert not MARKETING_WORDS.search(body), f"{name}: marketing"


def test_dissatisfaction_asks_for_photos_only_when_none_came():
    for context in contexts():
        body = render("dissatisfaction", context)
        assert bool(PHOTO_REQUEST.search(body)) == (not context["photos_received"])
        assert "sorry" in body.lower()
        assert all(word in body.lower() for word in ("refund", "replacement", "return"))


def test_cancellation_points_amazon_buyers_to_request_cancellation():
    for context in contexts():
        body = render("cancellation", context)
        assert ('"Request cancellation"' in body) == context["is_amazon"]
        assert "Your Orders" in body if context["is_amazon"] else "cancel your order" in body


def test_review_complaint_apologises_and_offers_refund_or_replacement():
    for context in contexts():
        body = render("review_complaint", context).lower()
        assert "sorry" in body and "refund" in body and "replacement" in body
        assert not re.search(r"\b(?:change|remove|update|edit|delete|revise)\b", body)


def test_address_change_explains_what_happens_once_shipped():
    for context in contexts():
        body = render("address_change", context)
        assert "carrier" in body
        assert ("cannot" in body or "does not let" in body) == context["is_amazon"]


def test_logistics_promises_tracking_details_and_other_promises_a_person_within_a_day():
    for context in contexts():
        assert "tracking" in render("logistics", context)
        assert "24 hours" in render("other", context)
