"""Settings (DESIGN.md §3): environment, optional TOML via MADEOPEN_CONFIG, the environment wins.

A bad value must stop start-up with one line that names the setting, before anything is touched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from madeopen import cli
from madeopen.settings import Settings, SettingsError, load_settings


def _toml(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "madeopen.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_match_the_design() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.domain == "localhost:8000"
    assert settings.scheme == "https"
    assert settings.database_url == "sqlite+aiosqlite:///./madeopen.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.allow_private_addresses is False
    assert settings.secret_key is None  # generated into the data dir on first start
    assert settings.base_url == "https://localhost:8000"


def test_environment_values_are_read_and_normalised() -> None:
    settings = load_settings(
        {
            "MADEOPEN_DOMAIN": "Social.Example.org",
            "MADEOPEN_SCHEME": "HTTP",
            "MADEOPEN_DATABASE_URL": "postgresql+asyncpg://madeopen:pw@db.internal:5432/madeopen",
            "MADEOPEN_HOST": "0.0.0.0",
            "MADEOPEN_PORT": " 8080 ",
            "MADEOPEN_ALLOW_PRIVATE_ADDRESSES": "yes",
            "MADEOPEN_AUTHORIZED_FETCH": "on",
            "MADEOPEN_SECRET_KEY": "s3cret",
            "MADEOPEN_DATA_DIR": "/var/lib/madeopen",
            "MADEOPEN_NODE_NAME": "Garden Town",
            "MADEOPEN_INBOX_MAX_BYTES": "1048576",
            "HOME": "/root",  # unrelated variables are ignored
        }
    )
    assert settings.domain == "social.example.org"
    assert settings.scheme == "http"
    assert settings.base_url == "http://social.example.org"
    assert settings.database_url == "postgresql+asyncpg://madeopen:pw@db.internal:5432/madeopen"
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.allow_private_addresses is True and settings.authorized_fetch is True
    assert settings.secret_key == "s3cret"
    assert settings.data_dir == Path("/var/lib/madeopen")
    assert settings.node_name == "Garden Town"
    assert settings.inbox_max_bytes == 1048576


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("ON", True), ("0", False), ("false", False), ("off", False),
     ("no", False)],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert load_settings({"MADEOPEN_ALLOW_PRIVATE_ADDRESSES": raw}).allow_private_addresses is expected


def test_domain_may_carry_a_port() -> None:
    settings = load_settings({"MADEOPEN_DOMAIN": "127.0.0.1:8443"})
    assert settings.base_url == "https://127.0.0.1:8443"


def test_toml_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = _toml(
        tmp_path,
        """
        domain = "from-file.example"
        port = 9000
        allow_private_addresses = true
        NODE_NAME = "From the file"
        database_url = "sqlite+aiosqlite:////var/lib/madeopen/madeopen.db"
        """,
    )
    settings = load_settings({"MADEOPEN_CONFIG": config, "MADEOPEN_PORT": "9100"})
    assert settings.domain == "from-file.example"
    assert settings.port == 9100  # environment over file
    assert settings.allow_private_addresses is True
    assert settings.node_name == "From the file"  # keys are case-insensitive
    assert settings.database_url == "sqlite+aiosqlite:////var/lib/madeopen/madeopen.db"


DEPLOY = Path(__file__).parents[2] / "deploy"


def _environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, blank lines, double quotes)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


def test_deploy_examples_are_valid() -> None:
    """The examples an operator copies must load as they are, and describe a production node."""
    for settings in (
        load_settings({"MADEOPEN_CONFIG": str(DEPLOY / "example-config.toml")}),
        load_settings(_environment_file(DEPLOY / "example.env")),
    ):
        assert settings.scheme == "https"
        assert settings.domain == "social.example.org"
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.allow_private_addresses is False
        assert settings.node_name == "Example Social"
        # Behind the nginx site every visitor arrives from loopback: its X-Forwarded-For must be believed.
        assert {str(network) for network in settings.trusted_proxies} == {"127.0.0.1/32", "::1/128"}
        assert settings.signing_process is True



def test_federation_mode() -> None:
    assert load_settings({}).federation_mode == "open" and not load_settings({}).allowlist_mode
    assert load_settings({"MADEOPEN_FEDERATION_MODE": " AllowList "}).allowlist_mode


def test_signing_process_is_on_unless_turned_off() -> None:
    assert load_settings({}).signing_process is True
    assert load_settings({"MADEOPEN_SIGNING_PROCESS": "off"}).signing_process is False


def test_trusted_proxies_are_addresses_and_blocks(tmp_path: Path) -> None:
    assert load_settings({}).trusted_proxies == ()  # the default: the socket peer is the client
    assert load_settings({"MADEOPEN_TRUSTED_PROXIES": " "}).trusted_proxies == ()
    settings = load_settings({"MADEOPEN_TRUSTED_PROXIES": " 127.0.0.1, ::1 ,10.0.0.5/8,,127.0.0.1"})
    assert [str(network) for network in settings.trusted_proxies] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    config = _toml(tmp_path, 'trusted_proxies = ["192.0.2.0/24", "2001:db8::/32"]\n')  # a TOML list works too
    listed = load_settings({"MADEOPEN_CONFIG": config}).trusted_proxies
    assert [str(network) for network in listed] == ["192.0.2.0/24", "2001:db8::/32"]

INVALID_ENV = [
    ("MADEOPEN_DOMAIN", "https://social.example.org", "host name"),
    ("MADEOPEN_DOMAIN", "social example.org", "host name"),
    ("MADEOPEN_DOMAIN", "social.example.org/path", "host name"),
    ("MADEOPEN_DOMAIN", "", "host name"),
    ("MADEOPEN_DOMAIN", "social.example.org:99999", "port"),
    ("MADEOPEN_DOMAIN", "social.example.org:0", "port"),
    ("MADEOPEN_SCHEME", "ftp", "https"),
    ("MADEOPEN_DATABASE_URL", "not a url", "database URL"),
    ("MADEOPEN_DATABASE_URL", "postgresql://user@localhost/db", "unsupported driver"),
    ("MADEOPEN_DATABASE_URL", "mysql+aiomysql://user@localhost/db", "unsupported driver"),
    ("MADEOPEN_PORT", "0", "between 1 and 65535"),
    ("MADEOPEN_PORT", "65536", "between 1 and 65535"),
    ("MADEOPEN_PORT", "-1", "between 1 and 65535"),
    ("MADEOPEN_PORT", "http", "port number"),
    ("MADEOPEN_PORT", "80.5", "port number"),
    ("MADEOPEN_ALLOW_PRIVATE_ADDRESSES", "maybe", "on/off"),
    ("MADEOPEN_AUTHORIZED_FETCH", "2", "on/off"),
    ("MADEOPEN_INBOX_MAX_BYTES", "0", "positive"),
    ("MADEOPEN_INBOX_MAX_BYTES", "lots", "positive"),
    ("MADEOPEN_NODE_NAME", "   ", "empty"),
    ("MADEOPEN_HOST", "", "empty"),
    ("MADEOPEN_TRUSTED_PROXIES", "localhost", "IP addresses or CIDR blocks"),
    ("MADEOPEN_TRUSTED_PROXIES", "127.0.0.1;::1", "IP addresses or CIDR blocks"),
    ("MADEOPEN_TRUSTED_PROXIES", "10.0.0.0/33", "IP addresses or CIDR blocks"),
    ("MADEOPEN_TRUSTED_PROXIES", "127.0.0.1,300.1.1.1", "'300.1.1.1'"),
    ("MADEOPEN_FEDERATION_MODE", "limited", "must be 'open' or 'allowlist'"),
    ("MADEOPEN_SIGNING_PROCESS", "auto", "on/off"),
    ("MADEOPEN_SMTP_URL", "mail.example.org:587", "smtp://user:pass@host:587"),
    ("MADEOPEN_SMTP_URL", "https://mail.example.org", "got scheme 'https'"),
    ("MADEOPEN_SMTP_URL", "smtp://", "no host given"),
    ("MADEOPEN_SMTP_URL", "smtp://mail.example.org:99999", "port"),
    ("MADEOPEN_MAIL_FROM", "noreply", "an address like"),
    ("MADEOPEN_MAIL_FROM", "", "empty"),
]


def test_mail_settings() -> None:
    settings = load_settings({"MADEOPEN_SMTP_URL": "smtps://u:p@mail.example.org:465", "MADEOPEN_MAIL_FROM": "Us <a@example.org>"})
    assert settings.smtp_url == "smtps://u:p@mail.example.org:465" and settings.sender == "Us <a@example.org>"
    default = load_settings({"MADEOPEN_DOMAIN": "social.example.org:8443", "MADEOPEN_NODE_NAME": "Commons"})
    assert default.smtp_url is None and default.sender == "Commons <noreply@social.example.org>"


@pytest.mark.parametrize(("name", "value", "reason"), INVALID_ENV)
def test_invalid_environment_values_name_the_setting(name: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('domian = "typo.example"\n', "unknown setting 'domian'"),
        ('[database]\nurl = "sqlite+aiosqlite:///x.db"\n', "unknown setting 'database'"),
        ("config = 'other.toml'\n", "unknown setting 'config'"),  # MADEOPEN_CONFIG is no file key
        ("domain = \n", "not valid TOML"),
        ("domain = 'a'\ndomain = 'b'\n", "not valid TOML"),
        (b'node_name = "\xff\xfe"\n', "not UTF-8"),
    ],
)
def test_bad_toml_files_are_refused(tmp_path: Path, text: str | bytes, reason: str) -> None:
    config = _toml(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        load_settings({"MADEOPEN_CONFIG": config})
    message = str(caught.value)
    assert message.startswith("MADEOPEN_CONFIG:") and config in message
    assert reason in message
    assert "\n" not in message


def test_invalid_value_in_the_toml_file_names_the_setting(tmp_path: Path) -> None:
    config = _toml(tmp_path, "port = 70000\n")
    with pytest.raises(SettingsError, match=r"^MADEOPEN_PORT: port must be between 1 and 65535"):
        load_settings({"MADEOPEN_CONFIG": config})
    # The environment wins, so a good value there overrides the bad one in the file.
    assert load_settings({"MADEOPEN_CONFIG": config, "MADEOPEN_PORT": "8001"}).port == 8001


def test_unreadable_toml_files_are_refused(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.toml", tmp_path):
        with pytest.raises(SettingsError, match=r"^MADEOPEN_CONFIG: cannot read"):
            load_settings({"MADEOPEN_CONFIG": str(path)})


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MADEOPEN_PORT", "99999"), ("MADEOPEN_DATABASE_URL", "bogus://"), ("MADEOPEN_SCHEME", "gopher"),
     ("MADEOPEN_CONFIG", "/nonexistent/madeopen.toml")],
)
@pytest.mark.parametrize("command", [["run"], ["migrate"], ["user", "create", "alice", "--password-file", "pw"]])
def test_every_command_stops_with_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    variable: str,
    value: str,
    command: list[str],
) -> None:
    for key in [k for k in os.environ if k.startswith("MADEOPEN_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    assert cli.main(command) != 0
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert variable in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing created: no database file, no data dir


def test_port_alone_moves_the_default_domain_with_it() -> None:
    # Issue 16: MADEOPEN_PORT=8001 alone used to mint every id on localhost:8000, the first node's.
    settings = load_settings({"MADEOPEN_PORT": "8001"})
    assert settings.domain == "localhost:8001"
    assert settings.base_url == "https://localhost:8001"


def test_an_explicit_domain_wins_over_the_port(tmp_path: Path) -> None:
    # Behind a reverse proxy the public domain differs from the listening port on purpose.
    assert load_settings({"MADEOPEN_DOMAIN": "social.example.org", "MADEOPEN_PORT": "8001"}).domain == (
        "social.example.org"
    )
    config = _toml(tmp_path, 'domain = "from-file.example"\n')
    assert load_settings({"MADEOPEN_CONFIG": config, "MADEOPEN_PORT": "8001"}).domain == "from-file.example"


def test_the_makefile_derives_the_domain_from_the_port() -> None:
    # `make run` exports MADEOPEN_DOMAIN, so the settings rule alone would not reach it.
    out = subprocess.run(
        ["make", "-s", "-f", str(Path(__file__).parents[2] / "Makefile"), "--eval",
         "print-domain:\n\t@echo $$MADEOPEN_DOMAIN", "print-domain"],
        env={k: v for k, v in os.environ.items() if k != "MADEOPEN_DOMAIN"} | {"MADEOPEN_PORT": "8001"},
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "127.0.0.1:8001"
