"""The configuration file: what loads, and the one-line error for each kind of mistake."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from config.settings import (
    FollowUpStep,
    ReplySettings,
    default_config_text,
    describe_settings,
    example_path,
    load_settings,
    resolve_secret,
)
from daemon.errors import ConfigError
from daemon.models import LABELS

MINIMAL = """
[seller]
name = "Northwind Home Goods"
address = "support@northwind-home.example"

[mailbox]
kind = "maildir"
path = "Maildir"

[store]
path = "state"
"""

IMAP = """
[seller]
name = "Northwind Home Goods"
address = "support@northwind-home.example"

[mailbox]
kind = "imap"
host = "imap.gmail.com"
username = "support@northwind-home.example"
password_env = "IMAP_PASSWORD"

[store]
path = "state"
"""


def write(tmp_path: Path, text: str, name: str = "aftersale.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    """The message a broken file gives; it must be a single line."""
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    message = str(caught.value)
    assert "\n" not in message
    assert "aftersale.toml" in message
    return message


# -- what loads ------------------------------------------------------------------------------


def test_example_file_loads_with_its_documented_values() -> None:
    settings = load_settings(example_path(), env={})
    assert settings.seller.name == "Northwind Home Goods"
    assert settings.seller.address == "support@northwind-home.example"
    assert settings.seller.signature.startswith("Maria Jensen")
    assert settings.log.file == example_path().parent / "aftersale.log"
    assert settings.mailbox.kind == "maildir"
    assert settings.mailbox.path == example_path().parent / "Maildir"
    assert settings.outbox.kind == "draft"
    assert set(settings.replies) == set(LABELS)
    assert not settings.replies["review_complaint"].auto_send
    assert not settings.replies["dissatisfaction"].auto_send
    assert settings.followups["logistics"][0].name == "check_arrived"


def test_example_file_comments_every_key() -> None:
    lines = example_path().read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        is_key = "=" in line and not line.startswith(("#", "[", " ", "{"))
        if is_key:
            commented = lines[number - 1].startswith("#") or " # " in line
            assert commented, f"line {number + 1} has no comment: {line}"


def test_default_config_text_loads_with_the_given_paths(tmp_path: Path) -> None:
    text = default_config_text('mail "box"', "/var/lib/aftersale")
    settings = load_settings(write(tmp_path, text), env={})
    assert settings.mailbox.path == tmp_path / 'mail "box"'
    assert settings.store.path == Path("/var/lib/aftersale")
    assert settings.seller.name == "Northwind Home Goods"


def test_minimal_file_fills_every_default(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), env={})
    assert settings.seller.language == "en"
    assert settings.seller.timezone == "UTC"
    assert settings.mailbox.poll_seconds == 60
    assert settings.mailbox.batch_size == 50
    assert settings.outbox.kind == "draft"
    assert settings.classifier.languages == ("en",)
    assert settings.classifier.min_confidence == 0.2
    assert settings.classifier.keywords_dir.parts[-2:] == ("classifiers", "keywords")
    assert settings.templates.dir.name == "templates"
    assert settings.reply_for("cancellation") == ReplySettings(True, False, "cancellation", 0.6)
    assert settings.send_window.days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert settings.followups["logistics"] == (FollowUpStep("check_arrived", "answered", 5.0, "followup_check_arrived"),)
    assert settings.followups["dissatisfaction"] == (FollowUpStep("satisfaction", "resolved", 3.0, "followup_satisfaction"),)
    assert settings.source == tmp_path / "aftersale.toml"


def test_replies_mapping_is_read_only_and_has_every_label(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + '[replies.logistics]\nauto_send = true\n'), env={})
    assert settings.reply_for("logistics").auto_send
    assert settings.reply_for("other") == ReplySettings(template="other")
    with pytest.raises(TypeError):
        settings.replies["logistics"] = ReplySettings()  # type: ignore[index]


def test_a_followups_table_replaces_the_default_steps(tmp_path: Path) -> None:
    text = MINIMAL + (
        "[[followups.any.steps]]\n"
        'name = "review_request"\nafter = "resolved"\ndays = 2.5\ntemplate = "review-request"\n'
    )
    settings = load_settings(write(tmp_path, text), env={})
    assert settings.followups["any"] == (FollowUpStep("review_request", "resolved", 2.5, "review-request"),)
    assert settings.followups["logistics"] == ()


def test_an_empty_followups_table_sends_no_follow_ups(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + "[followups]\n"), env={})
    assert all(steps == () for steps in settings.followups.values())


def test_relative_paths_are_resolved_against_the_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "certs").mkdir()
    (config_dir / "certs" / "ca.pem").write_text("not checked here\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    text = IMAP.replace('password_env = "IMAP_PASSWORD"', 'password_env = "IMAP_PASSWORD"\nca_file = "certs/ca.pem"')
    text += '[log]\nfile = "logs/aftersale.log"\n'
    settings = load_settings(write(config_dir, text), env={})
    assert settings.store.path == config_dir / "state"
    assert settings.mailbox.ca_file == config_dir / "certs" / "ca.pem"
    assert settings.log.file == config_dir / "logs" / "aftersale.log"


def test_imap_port_follows_security(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, IMAP), env={}).mailbox.port == 993
    starttls = IMAP.replace('kind = "imap"', 'kind = "imap"\nsecurity = "starttls"')
    assert load_settings(write(tmp_path, starttls), env={}).mailbox.port == 143


def test_smtp_port_follows_security_and_plain_local_relay_needs_no_login(tmp_path: Path) -> None:
    smtp = MINIMAL + '[outbox]\nkind = "smtp"\nhost = "127.0.0.1"\nsecurity = "none"\n'
    outbox = load_settings(write(tmp_path, smtp), env={}).outbox
    assert (outbox.port, outbox.username, outbox.retries) == (25, "", 3)
    ssl = MINIMAL + (
        '[outbox]\nkind = "smtp"\nhost = "smtp.gmail.com"\nsecurity = "ssl"\n'
        'username = "me"\npassword_env = "SMTP_PASSWORD"\n'
    )
    assert load_settings(write(tmp_path, ssl), env={}).outbox.port == 465


def test_security_none_is_allowed_on_loopback(tmp_path: Path) -> None:
    for host in ("localhost", "127.0.0.2", "::1"):
        text = IMAP.replace('"imap.gmail.com"', f'"{host}"').replace('kind = "imap"', 'kind = "imap"\nsecurity = "none"')
        assert load_settings(write(tmp_path, text), env={}).mailbox.security == "none"


def test_floats_accept_whole_numbers(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + "[tickets]\nsla_hours = 48\n"), env={})
    assert settings.tickets.sla_hours == 48.0


# -- one line per mistake, naming the file and the key ---------------------------------------


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'aftersale\.toml: no such file \(run "python run\.py init" to create one\)'):
        load_settings(tmp_path / "aftersale.toml", env={})


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[seller]\nname = "Northwind"\naddress = support@x.example\n')
    assert ": line 3, column 11: " in message


def test_unknown_section_suggests_the_closest_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[mailboxes]\nkind = 'imap'\n")
    assert "[mailboxes]: unknown section" in message
    assert 'did you mean "mailbox"?' in message


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'debug = true\n' + MINIMAL)
    assert "debug: unknown section" in message


def test_unknown_nested_key_suggests_the_closest_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('path = "Maildir"', 'path = "Maildir"\npoll_secs = 30'))
    assert "[mailbox] poll_secs: unknown key" in message
    assert 'did you mean "poll_seconds"?' in message


def test_unknown_key_in_a_reply_table_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[replies.logistics]\nautosend = true\n")
    assert "[replies.logistics] autosend: unknown key" in message


def test_unknown_label_suggests_the_right_spelling(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[replies.cancelation]\nauto_send = true\n")
    assert "[replies.cancelation]: unknown label" in message
    assert 'did you mean "cancellation"?' in message
    assert "address_change" in message


def test_wrong_type_names_the_key_and_value(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('path = "Maildir"', 'path = "Maildir"\npoll_seconds = "60"'))
    assert message.endswith('[mailbox] poll_seconds: must be a whole number, not "60"')


def test_booleans_must_be_real_booleans(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[log]\njson = "yes"\n')
    assert message.endswith('[log] json: must be true or false, not "yes"')


def test_integers_refuse_booleans(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[guards]\nmax_auto_per_customer_per_day = true\n")
    assert "[guards] max_auto_per_customer_per_day: must be a whole number, not true" in message


def test_bad_choice_lists_the_allowed_values(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('kind = "maildir"', 'kind = "pop3"'))
    assert message.endswith('[mailbox] kind: must be "maildir" or "imap", not "pop3"')


def test_missing_required_value_is_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('name = "Northwind Home Goods"\n', ""))
    assert message.endswith("[seller] name: required")


def test_missing_required_section_is_named_by_its_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('[store]\npath = "state"\n', ""))
    assert message.endswith("[store] path: required")


def test_seller_address_must_look_like_an_email_address(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('"support@northwind-home.example"', '"Northwind <support>"'))
    assert "[seller] address: must look like an email address" in message


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace("[mailbox]", 'timezone = "Europe/Berlim"\n\n[mailbox]'))
    assert "[seller] timezone: must be a time zone name" in message


def test_range_is_checked(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[classifier]\nmin_confidence = 1.5\n")
    assert "[classifier] min_confidence: must be between 0 and 1, not 1.5" in message


def test_send_window_must_end_after_it_starts(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[send_window]\nstart_hour = 18\nend_hour = 9\n")
    assert "[send_window] end_hour: must be later than start_hour (18)" in message


def test_keys_of_the_other_mailbox_kind_are_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL.replace('path = "Maildir"', 'path = "Maildir"\nhost = "imap.example.com"'))
    assert message.endswith('[mailbox] host: only for kind = "imap"')


def test_smtp_keys_are_refused_without_smtp(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[outbox]\nkind = "draft"\nhost = "smtp.example.com"\n')
    assert message.endswith('[outbox] host: only for kind = "smtp"')


def test_imap_requires_host_and_username(tmp_path: Path) -> None:
    assert config_error(tmp_path, IMAP.replace('host = "imap.gmail.com"\n', "")).endswith("[mailbox] host: required")
    assert config_error(tmp_path, IMAP.replace('username = "support@northwind-home.example"\n', "")).endswith(
        "[mailbox] username: required"
    )


def test_xoauth2_needs_exactly_one_token_source(tmp_path: Path) -> None:
    oauth = IMAP.replace('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"')
    assert "[mailbox] token_env: required" in config_error(tmp_path, oauth)
    both = oauth.replace('auth = "xoauth2"', 'auth = "xoauth2"\ntoken_env = "T"\ntoken_command = "get-token"')
    assert "[mailbox] token_command: give either token_env or token_command, not both" in config_error(tmp_path, both)
    with_password = IMAP.replace('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"\ntoken_env = "T"\npassword_env = "P"')
    assert "[mailbox] password_env: only for auth" in config_error(tmp_path, with_password)


def test_password_in_the_file_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, IMAP.replace('password_env = "IMAP_PASSWORD"', 'password = "hunter2"'))
    assert "[mailbox] password:" in message
    assert "password_env" in message
    assert "hunter2" not in message


def test_token_in_the_file_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[outbox]\nkind = "smtp"\nhost = "smtp.example.com"\ntoken = "ya29.x"\n')
    assert "[outbox] token:" in message
    assert "token_env" in message


def test_secret_pasted_into_password_env_is_not_echoed(tmp_path: Path) -> None:
    message = config_error(tmp_path, IMAP.replace('"IMAP_PASSWORD"', '"abcd efgh ijkl"'))
    assert "[mailbox] password_env: must be the NAME of an environment variable" in message
    assert "abcd" not in message


def test_security_none_is_refused_for_a_remote_server(tmp_path: Path) -> None:
    message = config_error(tmp_path, IMAP.replace('kind = "imap"', 'kind = "imap"\nsecurity = "none"'))
    assert "[mailbox] security:" in message
    assert "clear text" in message


def test_missing_ca_file_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, IMAP.replace('kind = "imap"', 'kind = "imap"\nca_file = "nope.pem"'))
    assert "[mailbox] ca_file: no such file" in message


def test_unknown_followup_label_and_bad_step_are_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[followups.logistic]\nsteps = []\n")
    assert "[followups.logistic]: unknown label" in message
    assert 'did you mean "logistics"?' in message
    bad_step = MINIMAL + '[followups.logistics]\nsteps = [{ name = "check", after = "sent", days = 1, template = "t" }]\n'
    expected = '[followups.logistics] steps[1] after: must be "answered" or "resolved", not "sent"'
    assert expected in config_error(tmp_path, bad_step)


def test_follow_up_step_names_must_be_unique(tmp_path: Path) -> None:
    step = '{ name = "check", after = "answered", days = 1, template = "t" }'
    text = MINIMAL + f"[followups.logistics]\nsteps = [{step}]\n[followups.any]\nsteps = [{step}]\n"
    assert '[followups.any] steps[1] name: "check" is already used' in config_error(tmp_path, text)


def test_auto_send_without_a_reply_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[replies.logistics]\nenabled = false\nauto_send = true\n")
    assert "[replies.logistics] auto_send: cannot be true when enabled = false" in message


def test_undecodable_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "aftersale.toml"
    path.write_bytes(b'[seller]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"aftersale\.toml: line 2: not UTF-8"):
        load_settings(path, env={})


# -- secrets ---------------------------------------------------------------------------------


def test_resolve_secret_reads_the_named_environment_variable(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, IMAP), env={})
    assert resolve_secret(settings.mailbox, {"IMAP_PASSWORD": "s3cret"}) == "s3cret"


def test_resolve_secret_names_the_unset_variable(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, IMAP), env={})
    for env in ({}, {"IMAP_PASSWORD": ""}):
        with pytest.raises(ConfigError) as caught:
            resolve_secret(settings.mailbox, env)
        assert str(caught.value).endswith("aftersale.toml: [mailbox] password_env: environment variable IMAP_PASSWORD is not set")


def test_resolve_secret_runs_the_token_command_without_a_shell(tmp_path: Path) -> None:
    script = tmp_path / "token.py"
    # The arguments come back in the token: a shell would have eaten "; echo injected".
    script.write_text("import sys\nprint('  ya29.' + '+'.join(sys.argv[1:]) + '  ')\n")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} ; echo injected"
    text = IMAP.replace('password_env = "IMAP_PASSWORD"', f'auth = "xoauth2"\ntoken_command = {json.dumps(command)}')
    settings = load_settings(write(tmp_path, text), env={})
    assert resolve_secret(settings.mailbox, {}) == "ya29.;+echo+injected"


def test_failing_token_command_is_a_config_error(tmp_path: Path) -> None:
    command = f"{shlex.quote(sys.executable)} -c 'raise SystemExit(3)'"
    text = IMAP.replace('password_env = "IMAP_PASSWORD"', f'auth = "xoauth2"\ntoken_command = {json.dumps(command)}')
    settings = load_settings(write(tmp_path, text), env={})
    with pytest.raises(ConfigError, match=r"\[mailbox\] token_command: .* exited with status 3"):
        resolve_secret(settings.mailbox, {})


def test_describe_settings_masks_secrets(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, IMAP), env={"IMAP_PASSWORD": "s3cret-value"})
    rows = dict(describe_settings(settings))
    assert rows["mailbox.password_env"] == "IMAP_PASSWORD (set)"
    assert rows["mailbox.host"] == "imap.gmail.com"
    assert all("s3cret-value" not in value for value in rows.values())
    assert dict(describe_settings(settings, env={}))["mailbox.password_env"] == "IMAP_PASSWORD (not set)"


def test_describe_settings_lists_each_key_once_per_section(tmp_path: Path) -> None:
    rows = describe_settings(load_settings(write(tmp_path, MINIMAL), env={}))
    keys = [key for key, _ in rows]
    assert len(keys) == len(set(keys))
    assert "mailbox.host" not in keys  # a Maildir has no host
    assert dict(rows)["replies.other.template"] == "other"
