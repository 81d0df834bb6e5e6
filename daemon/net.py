"""What the IMAP mailbox and the SMTP transport share: TLS, line ends and the loopback rule."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

from daemon.errors import ConfigError

SECURITIES = ("ssl", "starttls", "none")
AUTHS = ("password", "xoauth2")


def check_choices(section: str, security: str, auth: str) -> None:
    if security not in SECURITIES:
        raise ConfigError(f"[{section}] security: {security!r} is not one of {', '.join(SECURITIES)}")
    if auth not in AUTHS:
        raise ConfigError(f"[{section}] auth: {auth!r} is not one of {', '.join(AUTHS)}")


def tls_context(ca_file: Path | None, section: str) -> ssl.SSLContext:
    """A verifying context (certificate and host name), trusting `ca_file` when given.

    There is deliberately no way to switch verification off: a self-signed server is trusted
    by naming its certificate, never by trusting everyone."""
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(f"[{section}] ca_file: {ca_file}: cannot be used ({reason})") from exc


def crlf(raw: bytes) -> bytes:
    """Lines end in CRLF on the wire (RFC 5321 2.3.8, RFC 3501 2.2); files on disk keep LF,
    and some servers refuse bare LF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def is_loopback(host: str) -> bool:
    """True for a server on this machine, where nothing travels over a network."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
