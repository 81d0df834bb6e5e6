"""Real mail servers on loopback for the tests: a private Dovecot (IMAP) and aiosmtpd (SMTP).

Load them in tests/conftest.py with `pytest_plugins = ["tests.servers"]`.

Dovecot runs once per test session from its own config in a temporary directory (mode 755,
outside /root: its unprivileged processes must read it). Each test gets a fresh account through
`imap_account`, so tests never see each other's mail and no test has to clean up.
When Dovecot is missing the IMAP tests skip, except under CI=true where they fail: CI must
exercise the real server.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import getpass
import grp
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEFAULT_USER = "seller"
DEFAULT_PASSWORD = "secret"
START_TIMEOUT = 5.0
USER_POOL = 2000


def free_port() -> int:
    """A port nobody listens on right now (bind to 0 and read what the kernel gave)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing(what: str) -> None:
    """Skip locally, fail under CI: CI must never pass by skipping the real-server tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: the IMAP tests must run; install dovecot-imapd)")
    pytest.skip(what)


# -- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca_file: Path
    """What a client trusts: the self-signed certificate itself."""
    other_ca_file: Path
    """A different self-signed certificate: trusting it must NOT make the server trusted."""


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    cert.chmod(0o644)
    key.chmod(0o600)
    return cert, key


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for localhost and 127.0.0.1, plus an unrelated one."""
    if shutil.which("openssl") is None:
        _missing("openssl is not installed: cannot make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(directory, "server")
    other, _ = _self_signed(directory, "other")
    return TlsFiles(cert=cert, key=key, ca_file=cert, other_ca_file=other)


# -- Dovecot -----------------------------------------------------------------------------------


@dataclass
class Dovecot:
    """A running private Dovecot and the doveadm helpers tests use to act on it directly."""

    directory: Path
    config: Path
    host: str
    port: int
    """Plain IMAP, with STARTTLS offered."""
    ssl_port: int
    """IMAP over implicit TLS (imaps)."""
    ca_file: Path
    other_ca_file: Path
    user: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD
    _names: Iterator[int] = field(default_factory=itertools.count)

    # -- accounts --

    def fresh_user(self) -> str:
        """An account no test has used yet (from a pool written before Dovecot started:
        Dovecot re-reads its passwd file at most once a second, too slowly for tests)."""
        number = next(self._names)
        if number >= USER_POOL:
            raise RuntimeError(f"tests/servers.py: more than {USER_POOL} IMAP accounts used: raise USER_POOL")
        return f"seller{number}"

    # -- acting on mail behind the client's back --

    def doveadm(self, *args: str, stdin: bytes | None = None) -> str:
        result = subprocess.run(
            ["doveadm", "-c", str(self.config), *args], input=stdin, capture_output=True, timeout=20
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace').strip()}\n{self.log_tail()}"
            )
        return result.stdout.decode("utf-8", "replace")

    def deliver(self, raw: bytes, folder: str = "INBOX", user: str | None = None) -> None:
        """Put a message in a folder the way a delivery agent would (unseen, no IMAP client)."""
        self.doveadm("save", "-u", user or self.user, "-m", folder, stdin=raw)

    def messages(self, folder: str = "INBOX", user: str | None = None) -> list[tuple[int, tuple[str, ...], str]]:
        """(uid, flags, Message-ID) of every message in the folder, in UID order."""
        out = self.doveadm(
            "-f", "tab", "fetch", "-u", user or self.user, "uid flags hdr.message-id", "mailbox", folder, "all"
        )
        rows = [line.split("\t") for line in out.splitlines()[1:] if line.strip()]
        return [(int(row[0]), tuple(row[1].split()), row[2].strip() if len(row) > 2 else "") for row in rows]

    def flags(self, folder: str = "INBOX", user: str | None = None) -> list[tuple[str, ...]]:
        return [flags for _, flags, _ in self.messages(folder, user)]

    def folders(self, user: str | None = None) -> list[str]:
        return self.doveadm("mailbox", "list", "-u", user or self.user).split()

    def kick(self, user: str | None = None) -> None:
        """Drop every live connection of the user, as a server restart or a NAT timeout would."""
        self.doveadm("kick", user or self.user)

    def set_uid_validity(self, value: int, folder: str = "INBOX", user: str | None = None) -> None:
        """What a server-side mailbox rebuild does: every UID the client stored becomes void."""
        self.doveadm("mailbox", "update", "-u", user or self.user, "--uid-validity", str(value), folder)

    def reset(self, user: str | None = None) -> None:
        """Empty every folder of the user."""
        self.doveadm("expunge", "-u", user or self.user, "mailbox", "*", "all")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.directory / "dovecot.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no dovecot.log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ImapAccount:
    """One fresh, empty account on the shared Dovecot: what a single test works in."""

    server: Dovecot
    user: str
    password: str = DEFAULT_PASSWORD

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ssl_port(self) -> int:
        return self.server.ssl_port

    @property
    def ca_file(self) -> Path:
        return self.server.ca_file

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        self.server.deliver(raw, folder, self.user)

    def messages(self, folder: str = "INBOX") -> list[tuple[int, tuple[str, ...], str]]:
        return self.server.messages(folder, self.user)

    def flags(self, folder: str = "INBOX") -> list[tuple[str, ...]]:
        return self.server.flags(folder, self.user)

    def folders(self) -> list[str]:
        return self.server.folders(self.user)

    def kick(self) -> None:
        self.server.kick(self.user)

    def set_uid_validity(self, value: int, folder: str = "INBOX") -> None:
        self.server.set_uid_validity(value, folder, self.user)


def _accounts() -> tuple[str, str, str, str]:
    """(internal user, login user, mail uid, mail gid): Dovecot refuses root for all of them."""
    if os.geteuid() == 0:
        return "dovecot", "dovenull", str(pwd.getpwnam("nobody").pw_uid), str(grp.getgrnam("nogroup").gr_gid)
    me = getpass.getuser()
    return me, me, str(os.getuid()), str(os.getgid())


def _config(directory: Path, port: int, ssl_port: int, tls: TlsFiles) -> str:
    internal, login, uid, gid = _accounts()
    internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = aftersale-test-{port}
log_path = {directory}/dovecot.log
ssl = yes
ssl_cert = <{tls.cert}
ssl_key = <{tls.key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mail/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No brute-force penalty: a test's wrong password must not slow every later login by seconds.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(server: Dovecot) -> None:
    """Stop our Dovecot: SIGTERM to its master, then SIGKILL to its own processes if they linger.

    A polite `doveadm stop` takes seconds (a login process waits out a timeout); a test
    instance has nothing worth waiting for. Processes are ended by pid, never by name.
    """
    pid_file = server.directory / "run" / "master.pid"
    try:
        master = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        subprocess.run(["doveadm", "-c", str(server.config), "stop"], capture_output=True, timeout=20)
        return
    children = _children(master)
    _signal(master, signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and (_alive(master) or any(_alive(pid) for pid in children)):
        time.sleep(0.05)
    for pid in [*_children(master), *children, master]:
        _signal(pid, signal.SIGKILL)


def _children(parent: int) -> list[int]:
    """Pids whose parent is `parent` (Linux /proc; elsewhere none are known)."""
    found: list[int] = []
    if not Path("/proc/self/stat").exists():
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    if not Path("/proc/self/stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def dovecot(tls_files: TlsFiles) -> Iterator[Dovecot]:
    """A private Dovecot on free loopback ports: plain+STARTTLS on `port`, imaps on `ssl_port`."""
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        _missing("dovecot is not installed: apt-get install dovecot-imapd (or run `make dovecot`)")
    directory = Path(tempfile.mkdtemp(prefix="aftersale-dovecot-", dir="/tmp"))
    directory.chmod(0o755)
    _, _, uid, gid = _accounts()
    (directory / "mail").mkdir()
    os.chown(directory / "mail", int(uid), int(gid))
    port, ssl_port = free_port(), free_port()
    config = directory / "dovecot.conf"
    config.write_text(_config(directory, port, ssl_port, tls_files))
    config.chmod(0o644)
    server = Dovecot(
        directory=directory,
        config=config,
        host="127.0.0.1",
        port=port,
        ssl_port=ssl_port,
        ca_file=tls_files.ca_file,
        other_ca_file=tls_files.other_ca_file,
    )
    users = [DEFAULT_USER, *(f"seller{number}" for number in range(USER_POOL))]
    (directory / "passwd").write_text("".join(f"{user}:{{PLAIN}}{DEFAULT_PASSWORD}\n" for user in users))
    (directory / "passwd").chmod(0o644)
    # Dovecot daemonizes and its master keeps the inherited stdout/stderr: give it a file, not a
    # pipe, or waiting for the command would wait for the whole server.
    with open(directory / "startup.log", "wb") as startup_log:
        started = subprocess.run(["dovecot", "-c", str(config)], stdout=startup_log, stderr=startup_log, timeout=20)
    if started.returncode != 0:
        message = (directory / "startup.log").read_text(errors="replace").strip()
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"dovecot did not start: {message}")
    deadline = time.monotonic() + START_TIMEOUT
    if not (_wait_for_port(port, deadline) and _wait_for_port(ssl_port, deadline)):
        tail = server.log_tail()
        _stop(server)
        pytest.fail(f"dovecot did not listen on 127.0.0.1:{port}/{ssl_port} within {START_TIMEOUT:g} s:\n{tail}")
    try:
        yield server
    finally:
        _stop(server)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot: Dovecot) -> ImapAccount:
    """A fresh, empty account: its Drafts exists (auto-created), its Sent does not yet."""
    return ImapAccount(server=dovecot, user=dovecot.fresh_user())


# -- SMTP (aiosmtpd) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    def headers(self) -> email.message.Message:
        return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(self.content, headersonly=True)


class CollectingHandler:
    """Keeps every message the server accepts; refuses recipients at `refuse_domain` for good,
    and answers the next `temporary_failures` messages with a 451 (try again later)."""

    def __init__(self, refuse_domain: str = "refused.invalid") -> None:
        self.messages: list[Received] = []
        self.refuse_domain = refuse_domain
        self.temporary_failures = 0

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:  # noqa: ANN001
        if address.lower().endswith("@" + self.refuse_domain):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 try again later"
        self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: CollectingHandler
    user: str = "shop"
    password: str = "secret"
    ca_file: Path | None = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


def _authenticator(user: str, password: str):  # noqa: ANN202 - aiosmtpd's callback shape
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    return check


def _start_smtp(handler: CollectingHandler, **options: object) -> tuple[object, int]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on loopback without TLS; AUTH PLAIN/LOGIN accepted for shop/secret (optional).

    aiosmtpd refuses AUTH without TLS by default; on loopback, in a test, that is lifted.
    """
    handler = CollectingHandler()
    server = SmtpServer(host="127.0.0.1", port=0, handler=handler)
    controller, port = _start_smtp(
        handler, authenticator=_authenticator(server.user, server.password), auth_require_tls=False
    )
    server.port = port
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_starttls_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """aiosmtpd that requires STARTTLS (self-signed certificate) before AUTH and MAIL."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    handler = CollectingHandler()
    server = SmtpServer(host="127.0.0.1", port=0, handler=handler, ca_file=tls_files.ca_file)
    controller, port = _start_smtp(
        handler,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator(server.user, server.password),
        auth_require_tls=True,
    )
    server.port = port
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused at once."""
    return free_port()


__all__ = [
    "CollectingHandler",
    "Dovecot",
    "ImapAccount",
    "Received",
    "SmtpServer",
    "TlsFiles",
    "closed_port",
    "dovecot",
    "free_port",
    "imap_account",
    "smtp_server",
    "smtp_starttls_server",
    "tls_files",
]
