"""The one configuration file, read into frozen dataclasses.

Every mistake a seller can make in `aftersale.toml` (a typo in a key, a string where a number
belongs, a password pasted into the file) becomes one `ConfigError` line that names the file and
the key, before anything connects anywhere. Each section is read by a short function built on
`_Table`, a small reader that knows the allowed keys (the dataclass fields), the defaults and one
converter per value; converters raise `_Bad` with the problem and `_Table` adds where it is.

Secrets never live in the file: it names environment variables (`password_env`, `token_env`)
or a `token_command`, and `resolve_secret` reads them only when a connection is made.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.net import is_loopback
from daemon.errors import ConfigError
from daemon.models import LABELS

T = TypeVar("T")

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FOLLOWUP_TARGETS: tuple[str, ...] = (*LABELS, "any")
"""`[followups.any]` steps apply to every label."""
SECRET_KEYS: frozenset[str] = frozenset(
    {"password", "passwd", "pass", "token", "secret", "access_token", "app_password", "api_key", "client_secret"}
)
"""Keys that would hold a secret; the file must only name where the secret is."""
TOKEN_COMMAND_TIMEOUT = 30.0
"""Seconds a `token_command` may take; an OAuth helper that hangs must not hang the daemon."""

IMAP_ONLY: tuple[str, ...] = (
    "host", "port", "security", "ca_file", "username", "auth",
    "password_env", "token_env", "token_command", "folder", "timeout_seconds", "idle",
)
MAILDIR_ONLY: tuple[str, ...] = ("path",)
SMTP_ONLY: tuple[str, ...] = (
    "host", "port", "security", "ca_file", "username", "auth", "password_env", "token_env",
    "token_command", "timeout_seconds", "save_sent", "retries", "retry_base_seconds",
)
CREDENTIAL_KEYS: tuple[str, ...] = ("auth", "password_env", "token_env", "token_command")
IMAP_PORTS: Mapping[str, int] = MappingProxyType({"ssl": 993, "starttls": 143, "none": 143})
SMTP_PORTS: Mapping[str, int] = MappingProxyType({"ssl": 465, "starttls": 587, "none": 25})


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent


# -- the settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerSettings:
    name: str
    address: str
    signature: str = ""
    language: str = "en"
    other_addresses: tuple[str, ...] = ()
    """The seller's other addresses: mail from them is never answered (loop guard)."""
    timezone: str = "UTC"


@dataclass(frozen=True)
class MailboxSettings:
    """One class for both kinds; the fields of the other kind keep their defaults."""

    kind: str
    path: Path | None = None
    host: str = ""
    port: int = 0
    security: str = "ssl"
    ca_file: Path | None = None
    username: str = ""
    auth: str = "password"
    password_env: str = ""
    token_env: str = ""
    token_command: str = ""
    folder: str = "INBOX"
    timeout_seconds: float = 60.0
    idle: bool = True
    drafts_folder: str = "Drafts"
    sent_folder: str = "Sent"
    poll_seconds: int = 60
    batch_size: int = 50
    origin: str = "[mailbox]"
    """`<file>: [mailbox]`, so a secret that cannot be read later is reported against the file."""


@dataclass(frozen=True)
class OutboxSettings:
    kind: str = "draft"
    host: str = ""
    port: int = 0
    security: str = "starttls"
    ca_file: Path | None = None
    username: str = ""
    auth: str = "password"
    password_env: str = ""
    token_env: str = ""
    token_command: str = ""
    timeout_seconds: float = 30.0
    save_sent: str = "auto"
    retries: int = 3
    retry_base_seconds: float = 2.0
    origin: str = "[outbox]"


@dataclass(frozen=True)
class StoreSettings:
    path: Path
    fsync: bool = True


@dataclass(frozen=True)
class ClassifierSettings:
    name: str = "keyword"
    keywords_dir: Path = field(default_factory=lambda: _package_dir() / "classifiers" / "keywords")
    languages: tuple[str, ...] = ("en",)
    min_confidence: float = 0.2


@dataclass(frozen=True)
class TemplateSettings:
    dir: Path = field(default_factory=lambda: _package_dir() / "templates")


@dataclass(frozen=True)
class ReplySettings:
    """What to do with a ticket of one label."""

    enabled: bool = True
    """Draft a reply at all."""
    auto_send: bool = False
    template: str = ""
    min_confidence: float = 0.6
    """The classifier's confidence needed to send without review."""


@dataclass(frozen=True)
class TicketSettings:
    thread_window_days: int = 14
    sla_hours: float = 24.0
    sla_warn_hours: float = 4.0
    auto_close_days: int = 7
    digest_to: str = ""


@dataclass(frozen=True)
class FollowUpStep:
    name: str
    after: str
    """`answered` or `resolved`: the ticket event the delay counts from."""
    days: float
    template: str


@dataclass(frozen=True)
class SendWindowSettings:
    start_hour: int = 9
    end_hour: int = 20
    days: tuple[str, ...] = WEEKDAYS


@dataclass(frozen=True)
class GuardSettings:
    max_auto_per_customer_per_day: int = 3


@dataclass(frozen=True)
class AmazonSettings:
    high_value_threshold: float = 50.0
    proactive_days: int = 30
    orders_dir: Path | None = None


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"
    file: Path | None = None
    json: bool = False


def _frozen(mapping: Mapping[str, T]) -> Mapping[str, T]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Settings:
    seller: SellerSettings
    mailbox: MailboxSettings
    outbox: OutboxSettings
    store: StoreSettings
    classifier: ClassifierSettings
    templates: TemplateSettings
    replies: Mapping[str, ReplySettings]
    """Every label present, defaults filled in."""
    tickets: TicketSettings
    followups: Mapping[str, tuple[FollowUpStep, ...]]
    """Every label and `any` present; a label without steps maps to ()."""
    send_window: SendWindowSettings
    guards: GuardSettings
    amazon: AmazonSettings
    log: LogSettings
    source: Path
    env_set: Mapping[str, bool] = field(default_factory=lambda: _frozen({}), compare=False, repr=False)
    """For each environment variable the file names: was it set (non-empty) at load time.
    Names and booleans only, so `check-config` can report them without holding a secret."""

    def reply_for(self, label: str) -> ReplySettings:
        try:
            return self.replies[label]
        except KeyError:
            raise KeyError(f"no reply settings for label {label!r} (labels: {', '.join(LABELS)})") from None


def default_follow_ups() -> dict[str, tuple[FollowUpStep, ...]]:
    """What applies when the file has no [followups] table at all."""
    return {
        "logistics": (FollowUpStep("check_arrived", "answered", 5.0, "followup_check_arrived"),),
        "dissatisfaction": (FollowUpStep("satisfaction", "resolved", 3.0, "followup_satisfaction"),),
    }


# -- the generic reader ----------------------------------------------------------------------


class _Bad(Exception):
    """A value's problem, without the place; `_Table` adds file, section and key."""


_REQUIRED: Any = object()


def _show(value: object) -> str:
    """A value as the file would spell it, kept to one short line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return f', did you mean "{close[0]}"?' if close else ""


def _one_of(options: Iterable[str]) -> str:
    quoted = [f'"{option}"' for option in options]
    if len(quoted) == 2:
        return f"{quoted[0]} or {quoted[1]}"
    return "one of " + ", ".join(quoted)


@dataclass(frozen=True)
class _File:
    name: str
    """The file as the user named it, for messages."""
    base_dir: Path
    """Relative paths in the file are relative to this (the file's own directory)."""


class _Table:
    """One TOML table being read: refuses unknown keys, fills defaults, names the key in errors."""

    def __init__(self, data: Mapping[str, Any], file: _File, dotted: str = "", location: str | None = None) -> None:
        self.data = data
        self.file = file
        self.dotted = dotted
        self.location = location if location is not None else (f"[{dotted}]" if dotted else "")

    def error(self, key: str | None, problem: str) -> ConfigError:
        place = " ".join(part for part in (self.location, key) if part)
        return ConfigError(f"{self.file.name}: {place}: {problem}")

    def child_name(self, key: str) -> str:
        return f"{self.dotted}.{key}" if self.dotted else key

    def has(self, key: str) -> bool:
        return key in self.data

    def expect(self, known: Iterable[str], what: str = "key") -> None:
        """Refuse any key not in `known`, naming the nearest known one."""
        known = tuple(known)
        for key, value in self.data.items():
            if key in known:
                continue
            problem = f"unknown {what}{_suggest(key, known)} (expected one of {', '.join(known)})"
            if isinstance(value, dict):
                raise ConfigError(f"{self.file.name}: [{self.child_name(key)}]: {problem}")
            raise self.error(key, problem)

    def refuse(self, keys: Iterable[str], why: str) -> None:
        """Refuse keys that exist but do not apply here (the other mailbox kind...)."""
        for key in self.data:
            if key in keys:
                raise self.error(key, why)

    def value(self, key: str, default: Any, convert: Callable[[Any], T]) -> T:
        if key not in self.data:
            if default is _REQUIRED:
                raise self.error(key, "required")
            return default
        try:
            return convert(self.data[key])
        except _Bad as bad:
            raise self.error(key, str(bad)) from None

    def table(self, key: str) -> _Table:
        """The sub-table `key` (empty when absent)."""
        data = self.data.get(key, {})
        if not isinstance(data, dict):
            raise self.error(key, f"must be a table ([{self.child_name(key)}]), not {_show(data)}")
        return _Table(data, self.file, self.child_name(key))


# -- converters: each checks one value and returns it in its Python form ----------------------


def _string(pattern: str | None = None, hint: str = "", non_empty: bool = True) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be a string, not {_show(value)}")
        if non_empty and not value.strip():
            raise _Bad("must not be empty")
        if pattern is not None and value and not re.fullmatch(pattern, value):
            raise _Bad(f"{hint}, not {_show(value)}")
        return value

    return convert


def _integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        # bool is an int in Python; `retries = true` is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"must be a whole number, not {_show(value)}")
        _check_range(value, low, high)
        return value

    return convert


def _number(low: float | None = None, high: float | None = None, above: float | None = None) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _Bad(f"must be a number, not {_show(value)}")
        if above is not None and value <= above:
            raise _Bad(f"must be greater than {above:g}, not {_show(value)}")
        _check_range(value, low, high)
        return float(value)

    return convert


def _check_range(value: float, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low <= value <= high:
        raise _Bad(f"must be between {low:g} and {high:g}, not {_show(value)}")
    if low is not None and value < low:
        raise _Bad(f"must be at least {low:g}, not {_show(value)}")
    if high is not None and value > high:
        raise _Bad(f"must be at most {high:g}, not {_show(value)}")


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false, not {_show(value)}")
    return value


def _choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be {_one_of(options)}, not {_show(value)}")
        if value not in options:
            raise _Bad(f"must be {_one_of(options)}, not {_show(value)}{_suggest(value, options)}")
        return value

    return convert


def _list(item: Callable[[Any], T], non_empty: bool = False) -> Callable[[Any], tuple[T, ...]]:
    def convert(value: Any) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise _Bad(f"must be an array like [\"...\"], not {_show(value)}")
        if non_empty and not value:
            raise _Bad("must not be empty")
        items: list[T] = []
        for number, raw in enumerate(value, 1):
            try:
                converted = item(raw)
            except _Bad as bad:
                raise _Bad(f"item {number}: {bad}") from None
            if converted not in items:
                items.append(converted)
        return tuple(items)

    return convert


_EMAIL = re.compile(r"[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _email(value: Any) -> str:
    text = _string()(value).strip()
    if not _EMAIL.fullmatch(text):
        hint = " (only the address, the name goes elsewhere)" if "<" in text else ""
        raise _Bad(f"must look like an email address such as support@example.com{hint}, not {_show(value)}")
    return text


def _optional_email(value: Any) -> str:
    if value == "":
        return ""
    return _email(value)


def _language(value: Any) -> str:
    text = _string()(value)
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise _Bad(f'must be a two-letter language code such as "en" or "de", not {_show(value)}')
    return text.lower()


def _timezone(value: Any) -> str:
    text = _string()(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _Bad(f'must be a time zone name such as "Europe/Berlin" or "UTC", not {_show(value)}') from None
    return text


def _name(value: Any) -> str:
    return _string(r"[A-Za-z0-9_-]+", "must be a template name made of letters, digits, _ and -")(value)


def _env_name(value: Any) -> str:
    # Never echo the value: someone may have pasted the password itself here.
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise _Bad("must be the NAME of an environment variable (letters, digits and _), never the secret itself")
    return value


def _command(value: Any) -> str:
    text = _string()(value)
    try:
        shlex.split(text)
    except ValueError as error:
        raise _Bad(f"cannot be split into a command line ({error})") from None
    return text


def _host(value: Any) -> str:
    text = _string()(value).strip()
    if "://" in text or "/" in text:
        raise _Bad(f'must be a host name only, such as "imap.gmail.com", not {_show(value)}')
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text and not _is_ip(text):
        raise _Bad(f"must be a host name without a port (the port goes in port), not {_show(value)}")
    if re.search(r"\s", text):
        raise _Bad(f"must be a host name without spaces, not {_show(value)}")
    return text


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True




def _path(base_dir: Path, must_be: str = "") -> Callable[[Any], Path]:
    """Relative to the config file, so the daemon works from any current directory."""

    def convert(value: Any) -> Path:
        text = _string()(value)
        if "\x00" in text:
            raise _Bad("must not contain a NUL character")
        try:
            path = Path(text).expanduser()
        except RuntimeError:
            raise _Bad(f"cannot expand {text.split('/')[0]}: no such user or no home directory") from None
        if not path.is_absolute():
            path = base_dir / path
        if must_be == "file" and not path.is_file():
            raise _Bad(f"no such file: {path}")
        if must_be == "dir" and not path.is_dir():
            raise _Bad(f"no such directory: {path}")
        return path

    return convert


# -- the sections ----------------------------------------------------------------------------


def _keys(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "origin")


def _seller(t: _Table) -> SellerSettings:
    t.expect(_keys(SellerSettings))
    signature = t.value("signature", "", _string(non_empty=False))
    return SellerSettings(
        name=t.value("name", _REQUIRED, _string()).strip(),
        address=t.value("address", _REQUIRED, _email),
        # A multi-line TOML string starts and ends with a line break the seller did not mean.
        signature=signature.strip("\n"),
        language=t.value("language", "en", _language),
        other_addresses=t.value("other_addresses", (), _list(_email)),
        timezone=t.value("timezone", "UTC", _timezone),
    )


def _server(t: _Table, default_security: str, ports: Mapping[str, int], anonymous_when_plain: bool) -> dict[str, Any]:
    """Host, transport security and credentials: the same rules for IMAP and SMTP."""
    host = t.value("host", _REQUIRED, _host)
    security = t.value("security", default_security, _choice("ssl", "starttls", "none"))
    if security == "none" and not is_loopback(host):
        raise t.error(
            "security",
            f'"none" is allowed only for a server on this machine (localhost, 127.x.x.x, ::1); '
            f'with host "{host}" the password and the mail would travel in clear text: use "ssl" or "starttls"',
        )
    server: dict[str, Any] = {
        "host": host,
        "security": security,
        "port": t.value("port", ports[security], _integer(1, 65535)),
        "ca_file": t.value("ca_file", None, _path(t.file.base_dir, must_be="file")),
    }
    anonymous = anonymous_when_plain and security == "none"
    server["username"] = t.value("username", "" if anonymous else _REQUIRED, _string()).strip()
    if not server["username"]:
        t.refuse(CREDENTIAL_KEYS, "only used together with username")
        return server
    return server | _credentials(t)


def _credentials(t: _Table) -> dict[str, Any]:
    auth = t.value("auth", "password", _choice("password", "xoauth2"))
    if auth == "password":
        t.refuse(("token_env", "token_command"), 'only for auth = "xoauth2"')
        return {"auth": auth, "password_env": t.value("password_env", _REQUIRED, _env_name)}
    t.refuse(("password_env",), 'only for auth = "password" (use token_env or token_command)')
    token_env = t.value("token_env", "", _env_name)
    token_command = t.value("token_command", "", _command)
    if token_env and token_command:
        raise t.error("token_command", "give either token_env or token_command, not both")
    if not token_env and not token_command:
        raise t.error("token_env", 'required with auth = "xoauth2" (or give token_command)')
    return {"auth": auth, "token_env": token_env, "token_command": token_command}


def _mailbox(t: _Table) -> MailboxSettings:
    t.expect(_keys(MailboxSettings))
    kind = t.value("kind", _REQUIRED, _choice("maildir", "imap"))
    common: dict[str, Any] = {
        "drafts_folder": t.value("drafts_folder", "Drafts", _string()),
        "sent_folder": t.value("sent_folder", "Sent", _string()),
        "poll_seconds": t.value("poll_seconds", 60, _integer(1)),
        "batch_size": t.value("batch_size", 50, _integer(1, 1000)),
        "origin": f"{t.file.name}: [mailbox]",
    }
    if kind == "maildir":
        t.refuse(IMAP_ONLY, 'only for kind = "imap"')
        return MailboxSettings(kind=kind, path=t.value("path", _REQUIRED, _path(t.file.base_dir)), **common)
    t.refuse(MAILDIR_ONLY, 'only for kind = "maildir"')
    return MailboxSettings(
        kind=kind,
        folder=t.value("folder", "INBOX", _string()),
        timeout_seconds=t.value("timeout_seconds", 60.0, _number(above=0)),
        idle=t.value("idle", True, _boolean),
        **_server(t, "ssl", IMAP_PORTS, anonymous_when_plain=False),
        **common,
    )


def _outbox(t: _Table) -> OutboxSettings:
    t.expect(_keys(OutboxSettings))
    kind = t.value("kind", "draft", _choice("draft", "smtp", "dry-run"))
    origin = f"{t.file.name}: [outbox]"
    if kind != "smtp":
        t.refuse(SMTP_ONLY, 'only for kind = "smtp"')
        return OutboxSettings(kind=kind, origin=origin)
    return OutboxSettings(
        kind=kind,
        timeout_seconds=t.value("timeout_seconds", 30.0, _number(above=0)),
        save_sent=t.value("save_sent", "auto", _choice("auto", "always", "never")),
        retries=t.value("retries", 3, _integer(0, 10)),
        retry_base_seconds=t.value("retry_base_seconds", 2.0, _number(low=0)),
        origin=origin,
        **_server(t, "starttls", SMTP_PORTS, anonymous_when_plain=True),
    )


def _store(t: _Table) -> StoreSettings:
    t.expect(_keys(StoreSettings))
    return StoreSettings(
        path=t.value("path", _REQUIRED, _path(t.file.base_dir)),
        fsync=t.value("fsync", True, _boolean),
    )


def _classifier(t: _Table) -> ClassifierSettings:
    t.expect(_keys(ClassifierSettings))
    default_dir = _package_dir() / "classifiers" / "keywords"
    return ClassifierSettings(
        name=t.value("name", "keyword", _string()).strip(),
        keywords_dir=t.value("keywords_dir", default_dir, _path(t.file.base_dir, must_be="dir")),
        languages=t.value("languages", ("en",), _list(_language, non_empty=True)),
        min_confidence=t.value("min_confidence", ClassifierSettings.min_confidence, _number(0, 1)),
    )


def _templates(t: _Table) -> TemplateSettings:
    t.expect(_keys(TemplateSettings))
    return TemplateSettings(dir=t.value("dir", _package_dir() / "templates", _path(t.file.base_dir, must_be="dir")))


def _replies(t: _Table) -> Mapping[str, ReplySettings]:
    t.expect(LABELS, what="label")
    return _frozen({label: _reply(t.table(label), label) for label in LABELS})


def _reply(t: _Table, label: str) -> ReplySettings:
    t.expect(_keys(ReplySettings))
    reply = ReplySettings(
        enabled=t.value("enabled", True, _boolean),
        auto_send=t.value("auto_send", False, _boolean),
        template=t.value("template", label, _name),
        min_confidence=t.value("min_confidence", 0.6, _number(0, 1)),
    )
    if reply.auto_send and not reply.enabled:
        raise t.error("auto_send", "cannot be true when enabled = false (nothing would be drafted to send)")
    return reply


def _tickets(t: _Table) -> TicketSettings:
    t.expect(_keys(TicketSettings))
    tickets = TicketSettings(
        thread_window_days=t.value("thread_window_days", 14, _integer(0)),
        sla_hours=t.value("sla_hours", 24.0, _number(above=0)),
        sla_warn_hours=t.value("sla_warn_hours", 4.0, _number(low=0)),
        auto_close_days=t.value("auto_close_days", 7, _integer(1)),
        digest_to=t.value("digest_to", "", _optional_email),
    )
    if tickets.sla_warn_hours > tickets.sla_hours:
        raise t.error(
            "sla_warn_hours",
            f"must not be more than sla_hours ({tickets.sla_hours:g}), not {tickets.sla_warn_hours:g}",
        )
    return tickets


def _followups(root: _Table) -> Mapping[str, tuple[FollowUpStep, ...]]:
    # A [followups] table replaces the defaults entirely: the seller sees every step in the file.
    steps = default_follow_ups() if not root.has("followups") else _followup_tables(root.table("followups"))
    return _frozen({target: tuple(steps.get(target, ())) for target in FOLLOWUP_TARGETS})


def _followup_tables(t: _Table) -> dict[str, tuple[FollowUpStep, ...]]:
    t.expect(FOLLOWUP_TARGETS, what="label")
    owners: dict[str, str] = {}
    result: dict[str, tuple[FollowUpStep, ...]] = {}
    for target in t.data:
        table = t.table(target)
        table.expect(("steps",))
        raw_steps = table.value("steps", [], _list_of_tables)
        steps = []
        for number, raw in enumerate(raw_steps, 1):
            step_table = _Table(raw, t.file, table.dotted, location=f"{table.location} steps[{number}]")
            step = _step(step_table)
            # A follow-up is stored as <ticket>:<step name>; a ticket can meet steps of its
            # label and of `any`, and can be relabelled, so names are unique across the table.
            if step.name in owners:
                raise step_table.error(
                    "name", f'"{step.name}" is already used in [followups.{owners[step.name]}]; step names must be unique'
                )
            owners[step.name] = target
            steps.append(step)
        result[target] = tuple(steps)
    return result


def _list_of_tables(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _Bad(f"must be an array of tables ([[followups.<label>.steps]] or steps = [{{...}}]), not {_show(value)}")
    return value


def _step(t: _Table) -> FollowUpStep:
    t.expect(_keys(FollowUpStep))
    return FollowUpStep(
        name=t.value("name", _REQUIRED, _string(r"[a-z0-9_]+", "must be made of a-z, 0-9 and _")),
        after=t.value("after", _REQUIRED, _choice("answered", "resolved")),
        days=t.value("days", _REQUIRED, _number(low=0)),
        template=t.value("template", _REQUIRED, _name),
    )


def _weekday(value: Any) -> str:
    text = _string()(value).lower()
    if text not in WEEKDAYS:
        raise _Bad(f"must be one of {', '.join(WEEKDAYS)}, not {_show(value)}{_suggest(text, WEEKDAYS)}")
    return text


def _send_window(t: _Table) -> SendWindowSettings:
    t.expect(_keys(SendWindowSettings))
    window = SendWindowSettings(
        start_hour=t.value("start_hour", 9, _integer(0, 23)),
        end_hour=t.value("end_hour", 20, _integer(1, 24)),
        days=t.value("days", WEEKDAYS, _list(_weekday, non_empty=True)),
    )
    if window.end_hour <= window.start_hour:
        raise t.error("end_hour", f"must be later than start_hour ({window.start_hour}), not {window.end_hour}")
    return window


def _guards(t: _Table) -> GuardSettings:
    t.expect(_keys(GuardSettings))
    return GuardSettings(max_auto_per_customer_per_day=t.value("max_auto_per_customer_per_day", 3, _integer(0)))


def _amazon(t: _Table) -> AmazonSettings:
    t.expect(_keys(AmazonSettings))
    return AmazonSettings(
        high_value_threshold=t.value("high_value_threshold", 50.0, _number(low=0)),
        proactive_days=t.value("proactive_days", 30, _integer(0)),
        orders_dir=t.value("orders_dir", None, _path(t.file.base_dir)),
    )


def _log(t: _Table) -> LogSettings:
    t.expect(_keys(LogSettings))
    return LogSettings(
        level=t.value("level", "info", _choice("debug", "info", "warning", "error")),
        file=t.value("file", None, _path(t.file.base_dir)),
        json=t.value("json", False, _boolean),
    )


_SECTIONS: tuple[str, ...] = tuple(f.name for f in fields(Settings) if f.name not in ("source", "env_set"))


# -- loading ---------------------------------------------------------------------------------


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and check the whole file; the first mistake found is raised as one ConfigError line."""
    path = Path(path)
    env = os.environ if env is None else env
    return parse_settings(_read(path), path, env)


def parse_settings(text: str, path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """`load_settings` on text already read; `path` only names the file and anchors relative paths."""
    env = os.environ if env is None else env
    name = str(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{name}: {_syntax_error(error)}") from None
    file = _File(name=name, base_dir=path.absolute().parent)
    _refuse_secrets(document, file, "")
    root = _Table(document, file)
    root.expect(_SECTIONS, what="section")
    readers: dict[str, Callable[[_Table], Any]] = {
        "seller": _seller, "mailbox": _mailbox, "outbox": _outbox, "store": _store,
        "classifier": _classifier, "templates": _templates, "replies": _replies, "tickets": _tickets,
        "send_window": _send_window, "guards": _guards, "amazon": _amazon, "log": _log,
    }
    sections = {section: read(root.table(section)) for section, read in readers.items()}
    sections["followups"] = _followups(root)
    names = [
        value
        for box in (sections["mailbox"], sections["outbox"])
        for value in (box.password_env, box.token_env)
        if value
    ]
    env_set = _frozen({variable: bool(env.get(variable)) for variable in names})
    return Settings(**sections, source=path.absolute(), env_set=env_set)


def _read(path: Path) -> str:
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f'{name}: no such file (run "python run.py init" to create one)') from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{name}: cannot be read (permission denied)") from None
    except OSError as error:
        raise ConfigError(f"{name}: cannot be read ({error.strerror or error})") from None
    try:
        return data.decode("utf-8-sig")  # tolerate the byte-order mark some editors add
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{name}: line {line}: not UTF-8 text; save the file as UTF-8") from None


def _syntax_error(error: tomllib.TOMLDecodeError) -> str:
    message = str(error).replace("\n", " ")
    # tomllib names a table as a Python tuple, ('replies', 'logistics'); show it as TOML does.
    message = re.sub(
        r"\(((?:'[^']*'(?:, )?)+),?\)", lambda m: "[" + ".".join(re.findall(r"'([^']*)'", m[1])) + "]", message
    )
    match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message)
    if match:
        return f"line {match[2]}, column {match[3]}: {match[1]}"
    match = re.fullmatch(r"(.*) \(at end of document\)", message)
    if match:
        return f"at the end of the file: {match[1]}"
    return message


def _refuse_secrets(node: Any, file: _File, dotted: str) -> None:
    """A secret in the file leaks with every backup, screenshot and support request."""
    if isinstance(node, list):
        for item in node:
            _refuse_secrets(item, file, dotted)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.lower() in SECRET_KEYS:
            instead = "password_env" if "pass" in key.lower() else "token_env (or token_command)"
            place = f"[{dotted}] {key}" if dotted else key
            raise ConfigError(
                f"{file.name}: {place}: secrets never go in this file; put it in an environment variable "
                f"and name that variable with {instead} instead"
            )
        _refuse_secrets(value, file, f"{dotted}.{key}" if dotted else key)


# -- secrets ---------------------------------------------------------------------------------


def resolve_secret(section: MailboxSettings | OutboxSettings, env: Mapping[str, str] | None = None) -> str:
    """The password or OAuth token a section names, read now (not at load) so it is never kept."""
    env = os.environ if env is None else env
    origin = getattr(section, "origin", "settings")
    if section.auth == "xoauth2" and section.token_command:
        return _run_token_command(section.token_command, origin, env)
    key = "token_env" if section.auth == "xoauth2" else "password_env"
    variable = getattr(section, key)
    if not variable:
        raise ConfigError(f"{origin} {key}: required")
    value = env.get(variable, "")
    if not value:
        raise ConfigError(f"{origin} {key}: environment variable {variable} is not set")
    return value


def _run_token_command(command: str, origin: str, env: Mapping[str, str]) -> str:
    where = f"{origin} token_command"
    argv = shlex.split(command)
    if not argv:
        raise ConfigError(f"{where}: empty command")
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TOKEN_COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL, env=dict(env), check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where}: command not found: {argv[0]}") from None
    except PermissionError:
        raise ConfigError(f"{where}: not executable: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{where}: {argv[0]} did not finish within {TOKEN_COMMAND_TIMEOUT:g} seconds") from None
    except OSError as error:
        raise ConfigError(f"{where}: {argv[0]} could not run ({error.strerror or error})") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:200]
        status = f"{where}: {argv[0]} exited with status {done.returncode}"
        raise ConfigError(f"{status}: {detail}" if detail else status)
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise ConfigError(f"{where}: {argv[0]} printed no token")
    return lines[0]


# -- describing ------------------------------------------------------------------------------


def describe_settings(settings: Settings, env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Every effective setting as ("section.key", text) for `check-config`; secrets stay hidden.

    Environment variables are shown by name with whether they are set (in `env` when given,
    else as they were when the file was loaded); a token command by its program only."""
    rows: list[tuple[str, str]] = []
    for section in _SECTIONS:
        value = getattr(settings, section)
        if section == "replies":
            for label, reply in value.items():
                rows.extend(_rows(f"replies.{label}", reply, _keys(ReplySettings), settings, env))
        elif section == "followups":
            for target, steps in value.items():
                if steps:
                    rows.append((f"followups.{target}", "; ".join(_describe_step(step) for step in steps)))
        else:
            rows.extend(_rows(section, value, _shown_keys(section, value), settings, env))
    return rows


def _shown_keys(section: str, value: Any) -> tuple[str, ...]:
    keys = _keys(type(value))
    hidden: set[str] = set()
    if section == "mailbox":
        hidden |= set(MAILDIR_ONLY if value.kind == "imap" else IMAP_ONLY)
    if section == "outbox" and value.kind != "smtp":
        hidden |= set(SMTP_ONLY)
    if section in ("mailbox", "outbox"):
        unused = {"password": ("token_env", "token_command"), "xoauth2": ("password_env",)}[value.auth]
        hidden |= set(unused) | {key for key in CREDENTIAL_KEYS if key != "auth" and not getattr(value, key)}
        if not value.username:
            hidden |= set(CREDENTIAL_KEYS)
    return tuple(key for key in keys if key not in hidden)


def _rows(
    prefix: str, section: Any, keys: Iterable[str], settings: Settings, env: Mapping[str, str] | None
) -> list[tuple[str, str]]:
    rows = []
    for key in keys:
        value = getattr(section, key)
        if key.endswith("_env") and value:
            is_set = bool(env.get(value)) if env is not None else settings.env_set.get(value, False)
            text = f"{value} ({'set' if is_set else 'not set'})"
        elif key == "token_command" and value:
            text = f"{shlex.split(value)[0]} ... (command, run when connecting)"
        else:
            text = _describe_value(value)
        rows.append((f"{prefix}.{key}", text))
    return rows


def _describe_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) or "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value.replace("\n", "\\n") if value else '""'
    return str(value)


def _describe_step(step: FollowUpStep) -> str:
    return f"{step.name}: {step.days:g} days after {step.after}, template {step.template}"


# -- the starter file ------------------------------------------------------------------------


def example_path() -> Path:
    return Path(__file__).with_name("example.toml")


def _toml_string(text: str) -> str:
    # JSON string escapes are all valid TOML basic-string escapes; TOML also forbids raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def default_config_text(maildir: str, store: str) -> str:
    """config/example.toml with the Maildir and store paths filled in (what `init` writes)."""
    text = example_path().read_text(encoding="utf-8")
    for old, new in (('path = "Maildir"', maildir), ('path = "state"', store)):
        line = f"path = {_toml_string(str(new))}"
        text, count = re.subn(rf"^{re.escape(old)}$", lambda _: line, text, count=1, flags=re.M)
        if count != 1:
            raise RuntimeError(f"{example_path()}: the line {old!r} is missing")
    return text


def default_settings(directory: Path | None = None) -> Settings:
    """The starter settings without a file on disk, for commands that only classify text."""
    directory = Path.cwd() if directory is None else Path(directory)
    return parse_settings(default_config_text("Maildir", "state"), directory / "aftersale.toml")
