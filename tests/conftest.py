"""Shared fixtures. The real Dovecot and aiosmtpd servers live in tests/servers.py."""

pytest_plugins = ["tests.servers"]
