"""Builds the running parts from the settings: the one place that knows every module.

Nothing here connects at import time; each builder connects only when called, so `check-config`
and `--dry-run` can build just what they need.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from classifiers.base import Classifier, build_classifier
from classifiers.language import LanguageDetector
from config.settings import Settings, resolve_secret
from daemon.errors import ConfigError
from daemon.followups import FollowUpOptions, FollowUps
from daemon.lifecycle import Lifecycle
from daemon.mailbox.base import Mailbox
from daemon.mailbox.maildir import MaildirMailbox
from daemon.orders import Order, order_from_record
from daemon.outbox import Outbox, OutboxParts, build_outbox
from daemon.pipeline import Pipeline, PipelineOptions
from daemon.renderer import Renderer, Sender
from daemon.replies import ReplyPlanner
from daemon.state import Store

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def build_mailbox(settings: Settings, env: Mapping[str, str]) -> Mailbox:
    box = settings.mailbox
    if box.kind == "maildir":
        return MaildirMailbox(box.path, drafts_folder=box.drafts_folder, sent_folder=box.sent_folder)
    if box.kind == "imap":
        from daemon.mailbox.imap import ImapMailbox  # imapclient loads only for IMAP users

        return ImapMailbox(
            host=box.host,
            port=box.port,
            security=box.security,
            username=box.username,
            secret=partial(resolve_secret, box, env),
            auth=box.auth,
            ca_file=box.ca_file,
            folder=box.folder,
            drafts_folder=box.drafts_folder,
            sent_folder=box.sent_folder,
            timeout=box.timeout_seconds,
            use_idle=box.idle,
            secret_source=_secret_source(box),
        )
    raise ConfigError(f"{settings.source}: [mailbox] kind: unknown mailbox {box.kind!r} (available: maildir, imap)")


def build_transport(settings: Settings, env: Mapping[str, str]) -> Callable[[], object]:
    out = settings.outbox

    def make() -> object:
        from daemon.smtp import SmtpTransport

        return SmtpTransport(
            host=out.host,
            port=out.port,
            security=out.security,
            username=out.username,
            secret=partial(resolve_secret, out, env) if out.username else None,
            auth=out.auth,
            ca_file=out.ca_file,
            timeout=out.timeout_seconds,
            secret_source=_secret_source(out),
        )

    return make


def lookup_order(store: Store, order_id: str) -> Order | None:
    record = store.get_order(order_id)
    return order_from_record(record) if record else None


def _secret_source(section: object) -> str:
    """How error messages name where the secret came from (never the secret itself)."""
    for key in ("password_env", "token_env"):
        name = getattr(section, key, "")
        if name:
            return f"${name}"
    return "the token command" if getattr(section, "token_command", "") else "the password"


def saves_sent_itself(host: str) -> bool:
    """Gmail and Microsoft 365 file what their SMTP sends in Sent on their own."""
    host = host.lower()
    return host.endswith(("gmail.com", "googlemail.com", "office365.com", "outlook.com"))


def build_outbox_for(settings: Settings, mailbox: Mailbox, env: Mapping[str, str], dry_run: bool) -> Outbox:
    kind = "dry-run" if dry_run else settings.outbox.kind
    out = settings.outbox
    save_sent = True
    if kind == "smtp":
        save_sent = out.save_sent == "always" or (out.save_sent == "auto" and not saves_sent_itself(out.host))
    parts = OutboxParts(
        mailbox=mailbox,
        sender=settings.seller.address,
        transport=build_transport(settings, env) if kind == "smtp" else None,
        save_sent=save_sent,
        retries=getattr(out, "retries", 3),
        retry_base_seconds=getattr(out, "retry_base_seconds", 2.0),
    )
    return build_outbox(kind, parts)


def build_classifier_for(settings: Settings) -> Classifier:
    cls = settings.classifier
    return build_classifier(cls.name, cls.keywords_dir, cls.languages, cls.min_confidence)


def build_detector(settings: Settings) -> LanguageDetector:
    return LanguageDetector(settings.classifier.languages)


class LookOnlyMailbox:
    """Reads like the real mailbox; every write is skipped (for --dry-run)."""

    def __init__(self, inner: Mailbox) -> None:
        self._inner = inner
        self.kind = inner.kind

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def mark_handled(self, ref: str) -> None:
        log.debug("dry run: %s left as it is", ref)

    def append_draft(self, raw: bytes, message_id: str) -> str:
        return "dry-run"

    def append_sent(self, raw: bytes, message_id: str) -> str:
        return "dry-run"


def _scratch_copy(store_path: Path) -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="aftersale-dry-run-")) / "state"
    if store_path.is_dir():
        shutil.copytree(store_path, scratch, ignore=shutil.ignore_patterns("*.lock", "*.pid"))
    return scratch


@dataclass
class Runtime:
    """The parts one `once`/`run` works with, closed together."""

    settings: Settings
    store: Store
    mailbox: Mailbox
    outbox: Outbox
    pipeline: Pipeline
    follow_ups: FollowUps
    lifecycle: Lifecycle
    clock: Callable[[], datetime]

    def close(self) -> None:
        self.mailbox.close()


def build_runtime(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    env = os.environ if env is None else env
    store_path = Path(settings.store.path)
    mailbox = build_mailbox(settings, env)
    if dry_run:
        # A dry run decides on a scratch copy of the state and leaves the mailbox as it was,
        # so the real run afterwards still sees every message as new.
        store_path = _scratch_copy(store_path)
        mailbox = LookOnlyMailbox(mailbox)
    store = Store(store_path, clock=clock, fsync=settings.store.fsync and not dry_run)
    outbox = build_outbox_for(settings, mailbox, env, dry_run)
    classifier = build_classifier_for(settings)
    detector = build_detector(settings)
    options = PipelineOptions(
        sender=Sender(settings.seller.name, settings.seller.address),
        signature=settings.seller.signature,
        default_language=settings.seller.language,
        languages=tuple(settings.classifier.languages),
        own_addresses=tuple(settings.seller.other_addresses),
        thread_window=timedelta(days=settings.tickets.thread_window_days),
        daily_cap=settings.guards.max_auto_per_customer_per_day,
        batch_size=settings.mailbox.batch_size,
        follow_up_steps=settings.followups,
    )
    renderer = Renderer(settings.templates.dir, settings.seller.language)
    pipeline = Pipeline(
        options=options,
        store=store,
        mailbox=mailbox,
        outbox=outbox,
        classify=classifier.classify,
        detect_language=detector.detect,
        renderer=renderer,
        planner=ReplyPlanner(
            settings.replies,
            settings.seller.name,
            settings.seller.signature,
            orders=partial(lookup_order, store),
            high_value_threshold=settings.amazon.high_value_threshold,
            template_exists=lambda name: renderer.has_template(name, settings.seller.language),
        ),
        clock=clock,
    )
    follow_ups = FollowUps(
        options=FollowUpOptions(
            sender=options.sender,
            signature=settings.seller.signature,
            window=settings.send_window,
            timezone=settings.seller.timezone,
            daily_cap=settings.guards.max_auto_per_customer_per_day,
            proactive_days=settings.amazon.proactive_days,
        ),
        store=store,
        outbox=outbox,
        renderer=renderer,
        replies=settings.replies,
        clock=clock,
    )
    lifecycle = Lifecycle(store, settings.followups, clock)
    return Runtime(
        settings=settings, store=store, mailbox=mailbox, outbox=outbox, pipeline=pipeline,
        follow_ups=follow_ups, lifecycle=lifecycle, clock=clock,
    )
