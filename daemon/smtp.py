"""Sending mail over SMTP (stdlib smtplib): one connection per message, closed afterwards.

A reply is sent rarely, so there is no pooled connection to go stale: each send connects, secures the line (implicit TLS or STARTTLS, certificates always
verified), logs in, hands the message over and quits. Failures become one-line OutboxErrors;
`send_with_retry` retries only what may succeed later (4xx replies, dropped connections), never
a 5xx refusal (RFC 5321 4.2.1: a permanent failure will fail again).

A connection lost after the message's final "." leaves it unknown whether the server took it;
it is retried, since a rare duplicate reply beats a lost one.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from daemon.net import check_choices, crlf, is_loopback, tls_context
from daemon.errors import OutboxError

log = logging.getLogger(__name__)

RETRY_MAX_SECONDS = 300.0
_X509_HOSTNAME_MISMATCH = 62


class _SendFailure(Exception):
    """One failed attempt: its one-line reason and whether trying again could help."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class SmtpTransport:
    """Hands raw messages to an SMTP submission server."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        username: str = "",
        secret: Callable[[], str] | None = None,
        auth: str = "password",
        ca_file: Path | None = None,
        timeout: float = 60.0,
        secret_source: str = "$SMTP_PASSWORD",
    ) -> None:
        check_choices("outbox", security, auth)
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._secret = secret
        self._auth = auth
        self._ca_file = Path(ca_file) if ca_file else None
        self._timeout = timeout
        self._secret_source = secret_source
        self._where = f"smtp {host}:{port}"
        self._context: ssl.SSLContext | None = None

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        """Send once; raise OutboxError (one line) when the server did not take the message."""
        try:
            self._send_once(raw, sender, recipients)
        except _SendFailure as failure:
            raise OutboxError(f"{self._where}: {failure.reason}") from failure

    def send_with_retry(
        self,
        raw: bytes,
        sender: str,
        recipients: Sequence[str],
        retries: int,
        base_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Send, retrying up to `retries` times after temporary failures (waits of base, 2*base,
        4*base ... seconds, at most five minutes each)."""
        attempts = max(0, retries) + 1
        for attempt in range(1, attempts + 1):
            try:
                self._send_once(raw, sender, recipients)
                return
            except _SendFailure as failure:
                if failure.permanent:
                    raise OutboxError(f"{self._where}: {failure.reason}") from failure
                if attempt == attempts:
                    tries = "attempt" if attempts == 1 else "attempts"
                    raise OutboxError(f"{self._where}: {failure.reason} (gave up after {attempts} {tries})") from failure
                delay = min(RETRY_MAX_SECONDS, base_seconds * 2 ** (attempt - 1))
                log.warning("%s: %s; trying again in %g s (%d of %d)", self._where, failure.reason, delay, attempt, attempts)
                sleep(delay)

    def check(self) -> str:
        """Connect, secure and log in without sending anything (for `check-config`)."""
        try:
            with self._session():
                pass
        except _SendFailure as failure:
            raise OutboxError(f"{self._where}: {failure.reason}") from failure
        login = f"logged in as {self._username}" if self._username else "no login"
        return f"{self._where} ({self._security}): ready, {login}"

    # -- one attempt -------------------------------------------------------------------------

    def _send_once(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        if not recipients:
            raise _SendFailure("no recipients", permanent=True)
        with self._session() as session:
            options = []
            if not all(address.isascii() for address in (sender, *recipients)):
                if not session.has_extn("smtputf8"):
                    raise _SendFailure("an address is not ASCII and the server lacks SMTPUTF8", permanent=True)
                options.append("SMTPUTF8")
            if not raw.isascii() and session.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")  # RFC 6152: announce 8-bit text parts
            try:
                refused = session.sendmail(sender, list(recipients), crlf(raw), mail_options=options)
            except smtplib.SMTPRecipientsRefused as exc:
                raise _refused_recipients(exc.recipients) from exc
            except smtplib.SMTPSenderRefused as exc:
                raise _SendFailure(
                    f"sender {sender} refused: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
                ) from exc
            except smtplib.SMTPResponseException as exc:
                raise _SendFailure(f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise _SendFailure(f"connection lost while sending ({_cause(exc, self._timeout)})", permanent=False) from exc
            if refused:
                # Some took it, some did not: sending again would double it for those who did.
                raise _refused_recipients(refused, permanent=True)
        log.info("%s: sent to %s", self._where, ", ".join(recipients))

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """An open, secured, logged-in connection for one `with` block; always closed after."""
        session = self._open()
        try:
            yield session
        except BaseException:
            _close_quietly(session)  # no polite QUIT to a server that just failed us
            raise
        try:
            session.quit()
        except (smtplib.SMTPException, OSError):
            _close_quietly(session)

    def _open(self) -> smtplib.SMTP:
        context = self._tls_context() if self._security != "none" else None
        try:
            if self._security == "ssl":
                session: smtplib.SMTP = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
            else:
                session = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise _connect_failure(exc, self._host, self._timeout) from exc
        try:
            self._secure_and_login(session, context)
        except BaseException:
            _close_quietly(session)
            raise
        return session

    def _secure_and_login(self, session: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        try:
            session.ehlo()
            if self._security == "starttls":
                if not session.has_extn("starttls"):
                    raise _SendFailure('the server does not offer STARTTLS (set [outbox] security = "ssl" or "none")', permanent=True)
                session.starttls(context=context)
                session.ehlo()
            elif self._security == "none" and self._username and not is_loopback(self._host):
                log.warning("%s: security = \"none\": the password crosses the network unencrypted", self._where)
            if self._username:
                self._login(session)
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise _connect_failure(exc, self._host, self._timeout) from exc
        except smtplib.SMTPAuthenticationError as exc:
            what = "access token" if self._auth == "xoauth2" else "password"
            raise _SendFailure(
                f'login refused for user "{self._username}" (check [outbox] username and the {what} in '
                f"{self._secret_source}); server said: {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=True,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise _SendFailure(f"the server does not support that: {_text(exc)} (check [outbox] security and auth)", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise _SendFailure(f"server said: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _SendFailure(f"connection lost ({_cause(exc, self._timeout)})", permanent=False) from exc
        except smtplib.SMTPException as exc:  # e.g. no AUTH mechanism both sides know
            raise _SendFailure(f"login failed: {_text(exc)} (check [outbox] auth)", permanent=True) from exc

    def _login(self, session: smtplib.SMTP) -> None:
        secret = self._secret() if self._secret else ""
        if self._auth == "xoauth2":
            token = f"user={self._username}\x01auth=Bearer {secret}\x01\x01"
            # On failure the server sends a 334 with an error; the empty answer ends the
            # exchange so the real 535 arrives (Google's XOAUTH2 protocol).
            session.auth("XOAUTH2", lambda challenge=None: "" if challenge else token, initial_response_ok=True)
        else:
            session.login(self._username, secret)

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = tls_context(self._ca_file, "outbox")
        return self._context


def _refused_recipients(refused: dict[str, tuple[int, bytes]], permanent: bool | None = None) -> _SendFailure:
    parts = [f"{address} ({code} {_text(reply)})" for address, (code, reply) in refused.items()]
    codes = [code for code, _ in refused.values()]
    lasting = all(code >= 500 for code in codes) if permanent is None else permanent
    return _SendFailure(f"recipient refused: {'; '.join(parts)}", permanent=lasting)


def _connect_failure(exc: BaseException, host: str, timeout: float) -> _SendFailure:
    """Certificate and name problems are the seller's to fix: retrying will not help."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "verification failed"
        if exc.verify_code == _X509_HOSTNAME_MISMATCH:
            return _SendFailure(f"TLS certificate is not for {host}: {reason} (check [outbox] host)", permanent=True)
        return _SendFailure(f"TLS certificate not trusted: {reason} (set [outbox] ca_file)", permanent=True)
    if isinstance(exc, ssl.SSLError):
        return _SendFailure(f"TLS handshake failed: {exc.reason or _cause(exc)} (check [outbox] port and security)", permanent=True)
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return _SendFailure("name not found (check [outbox] host)", permanent=True)
        return _SendFailure(f"name lookup failed: {exc.strerror}", permanent=False)
    if isinstance(exc, ConnectionRefusedError):
        return _SendFailure("connection refused (check [outbox] host and port)", permanent=False)
    if isinstance(exc, smtplib.SMTPConnectError):
        return _SendFailure(f"the server refused the connection: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=False)
    return _SendFailure(_cause(exc, timeout), permanent=False)


def _cause(exc: BaseException, timeout: float | None = None) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _text(str(exc)) or type(exc).__name__


def _text(reply: object) -> str:
    """A server reply on one line, however it came (bytes, multi-line)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]




def _close_quietly(session: smtplib.SMTP) -> None:
    try:
        session.close()
    except OSError:
        pass
