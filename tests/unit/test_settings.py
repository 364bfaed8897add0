"""Settings from the environment (SPEC §1): defaults, the generated secret key, validation."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from award_jury.settings import DEFAULT_BASE_URL, DEFAULT_DATABASE_URL, Settings, SettingsError


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AWARD_JURY_DATA_DIR": str(tmp_path), **extra}


def test_from_env_without_variables_uses_spec_defaults(tmp_path: Path) -> None:
    s = Settings.from_env(env_for(tmp_path))
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///var/award_jury.db"
    assert s.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8000"
    assert s.smtp_url is None
    assert s.data_dir == tmp_path
    assert s.is_sqlite
    assert s.outbox_dir == tmp_path / "outbox"
    assert s.secure_cookies is False


def test_from_env_empty_dict_defaults_data_dir_to_var() -> None:
    # Only checks the default path; the key is given, so nothing is written to ./var.
    s = Settings.from_env({"AWARD_JURY_SECRET_KEY": "k" * 32})
    assert s.data_dir == Path("var")


def test_from_env_reads_every_variable(tmp_path: Path) -> None:
    s = Settings.from_env(
        env_for(
            tmp_path,
            AWARD_JURY_DATABASE_URL="postgresql+asyncpg://u:p@db/award",
            AWARD_JURY_BASE_URL="https://awards.example.org/",
            AWARD_JURY_SMTP_URL="smtp://user:pass@mail.example.org:587",
            AWARD_JURY_SECRET_KEY="s" * 20,
        )
    )
    assert s.database_url == "postgresql+asyncpg://u:p@db/award"
    assert not s.is_sqlite
    assert s.base_url == "https://awards.example.org"
    assert s.smtp_url == "smtp://user:pass@mail.example.org:587"
    assert s.secret_key == "s" * 20


def test_secret_key_missing_is_generated_once_into_data_dir(tmp_path: Path) -> None:
    first = Settings.from_env(env_for(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.is_file()
    assert key_file.read_text(encoding="utf-8").strip() == first.secret_key
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = Settings.from_env(env_for(tmp_path))
    assert second.secret_key == first.secret_key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temp files left


def test_secret_key_missing_data_dir_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    s = Settings.from_env({"AWARD_JURY_DATA_DIR": str(data_dir)})
    assert (data_dir / "secret_key").read_text(encoding="utf-8").strip() == s.secret_key


def test_secret_key_generated_is_same_in_another_process(tmp_path: Path) -> None:
    key = Settings.from_env(env_for(tmp_path)).secret_key
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARD_JURY_")}
    env["AWARD_JURY_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "from award_jury.settings import Settings; print(Settings.from_env().secret_key)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert proc.stdout.strip() == key


def test_secret_key_explicit_wins_over_file(tmp_path: Path) -> None:
    generated = Settings.from_env(env_for(tmp_path)).secret_key
    explicit = "explicit-secret-key-0123456789"
    s = Settings.from_env(env_for(tmp_path, AWARD_JURY_SECRET_KEY=explicit))
    assert s.secret_key == explicit
    assert (tmp_path / "secret_key").read_text(encoding="utf-8").strip() == generated


def test_secret_key_explicit_does_not_write_file(tmp_path: Path) -> None:
    Settings.from_env(env_for(tmp_path, AWARD_JURY_SECRET_KEY="x" * 16))
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_too_short_raises(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AWARD_JURY_SECRET_KEY"):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_SECRET_KEY="x" * 15))


@pytest.mark.parametrize("url", ["ftp://x", "example.org", "http://", "javascript:alert(1)"])
def test_base_url_not_http_raises(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="AWARD_JURY_BASE_URL"):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_BASE_URL=url))


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("https://awards.example.org", True),
        ("https://awards.example.org/sub/", True),
        ("http://awards.example.org", False),
        ("http://127.0.0.1:8000", False),
    ],
)
def test_secure_cookies_only_for_https(tmp_path: Path, url: str, secure: bool) -> None:
    assert Settings.from_env(env_for(tmp_path, AWARD_JURY_BASE_URL=url)).secure_cookies is secure


def test_secure_cookies_true_for_upper_case_https_scheme(tmp_path: Path) -> None:
    # URL schemes are case-insensitive (RFC 3986 §3.1) and from_env accepts "HTTPS://…",
    # so the site is served over https and its cookies must be Secure.
    s = Settings.from_env(env_for(tmp_path, AWARD_JURY_BASE_URL="HTTPS://awards.example.org"))
    assert s.secure_cookies is True


def test_body_limits_come_from_the_environment(tmp_path: Path) -> None:
    default = Settings.from_env(env_for(tmp_path))
    assert (default.max_form_bytes, default.body_timeout_seconds) == (64 * 1024, 15)
    s = Settings.from_env(env_for(tmp_path, AWARD_JURY_MAX_FORM_KB="128", AWARD_JURY_BODY_TIMEOUT_SECONDS="30"))
    assert (s.max_form_bytes, s.body_timeout_seconds) == (128 * 1024, 30)
    with pytest.raises(SettingsError):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_MAX_FORM_KB="0"))


def test_import_caps_come_from_the_environment_and_the_file_cap_follows_the_deck_limit(tmp_path: Path) -> None:
    mb = 1024 * 1024
    default = Settings.from_env(env_for(tmp_path))
    caps = (default.import_max_json_bytes, default.import_max_file_bytes, default.import_max_total_bytes)
    assert caps == (32 * mb, 20 * mb, 1024 * mb)
    assert default.import_max_files == 10_000
    assert Settings.from_env(env_for(tmp_path, AWARD_JURY_MAX_UPLOAD_MB="5")).import_max_file_bytes == 5 * mb
    s = Settings.from_env(
        env_for(
            tmp_path,
            AWARD_JURY_IMPORT_MAX_JSON_MB="2",
            AWARD_JURY_IMPORT_MAX_FILE_MB="3",
            AWARD_JURY_IMPORT_MAX_TOTAL_MB="40",
            AWARD_JURY_IMPORT_MAX_FILES="7",
        )
    )
    assert (s.import_max_json_bytes, s.import_max_file_bytes, s.import_max_total_bytes) == (2 * mb, 3 * mb, 40 * mb)
    assert s.import_max_files == 7
    with pytest.raises(SettingsError):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_IMPORT_MAX_FILES="0"))


def test_retention_and_scheduler_settings_come_from_the_environment(tmp_path: Path) -> None:
    default = Settings.from_env(env_for(tmp_path))
    days = (
        default.retention_audit_ip_days,
        default.retention_signin_days,
        default.retention_token_days,
        default.retention_outbox_days,
    )
    assert days == (90, 30, 7, 30)
    assert default.scheduler_interval_seconds == 3600
    s = Settings.from_env(
        env_for(
            tmp_path,
            AWARD_JURY_RETENTION_AUDIT_IP_DAYS="14",
            AWARD_JURY_RETENTION_SIGNIN_DAYS="3",
            AWARD_JURY_RETENTION_TOKEN_DAYS="2",
            AWARD_JURY_RETENTION_OUTBOX_DAYS="5",
            AWARD_JURY_SCHEDULER_MINUTES="15",
        )
    )
    assert (s.retention_audit_ip_days, s.retention_signin_days, s.retention_token_days) == (14, 3, 2)
    assert (s.retention_outbox_days, s.scheduler_interval_seconds) == (5, 900)
    with pytest.raises(SettingsError):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_RETENTION_AUDIT_IP_DAYS="0"))


def test_mail_sender_defaults_to_noreply_at_the_base_urls_host(tmp_path: Path) -> None:
    s = Settings.from_env(env_for(tmp_path, AWARD_JURY_BASE_URL="https://jury.stadt.example"))
    assert s.mail_from is None and s.mail_from_name is None


def test_mail_sender_name_and_address_come_from_the_environment(tmp_path: Path) -> None:
    env = env_for(tmp_path, AWARD_JURY_MAIL_FROM=" wettbewerb@stadt.example ")
    s = Settings.from_env({**env, "AWARD_JURY_MAIL_FROM_NAME": " Stadt Beispiel "})
    assert s.mail_from == "wettbewerb@stadt.example"
    assert s.mail_from_name == "Stadt Beispiel"


@pytest.mark.parametrize(
    "address", ["no-at-sign", "two@@example.org", "a@b", "Name <a@example.org>", "a@example.org\nBcc: x@evil.example"]
)
def test_mail_sender_address_that_is_not_a_plain_address_raises(tmp_path: Path, address: str) -> None:
    with pytest.raises(SettingsError, match="AWARD_JURY_MAIL_FROM"):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_MAIL_FROM=address))


def test_mail_sender_name_with_a_line_break_raises(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AWARD_JURY_MAIL_FROM_NAME"):
        Settings.from_env(env_for(tmp_path, AWARD_JURY_MAIL_FROM_NAME="Stadt\r\nBcc: x@evil.example"))
