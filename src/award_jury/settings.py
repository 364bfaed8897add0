"""One Settings object read from the environment (SPEC §1).

Every variable has a working default for the embedded setup: SQLite in ``var/``,
mails written to ``var/outbox/``, a secret key generated once into ``var/secret_key``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
#: Where an installed wheel carries templates/, static/ (with the fonts) and migrations/
#: (pyproject.toml force-includes them there); a checkout has them at the repository's top.
BUNDLED_DATA_DIR = PACKAGE_DIR / "_data"


def resource_dir(name: str) -> Path:
    """The folder ``name`` (templates, static, migrations): inside the installed package if it
    carries one, else at the top of the source checkout."""
    bundled = BUNDLED_DATA_DIR / name
    return bundled if bundled.is_dir() else PROJECT_DIR / name


TEMPLATES_DIR = resource_dir("templates")
MIGRATIONS_DIR = resource_dir("migrations")
STATIC_DIR = resource_dir("static")
LOCALE_DIR = PACKAGE_DIR / "locale"

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/award_jury.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SUPPORTED_LOCALES = ("de", "en")


class SettingsError(ValueError):
    """A setting has a value the application cannot use."""


def _load_or_create_secret(data_dir: Path) -> str:
    """Read the secret key from the data dir, creating it once (atomically) if missing.

    Every process and worker reads the same file, so sessions and tokens stay valid
    across workers and restarts.
    """
    path = data_dir / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".secret_key.{os.getpid()}.tmp")
    tmp.write_text(key + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    try:
        # link() fails if another process won the race: then use its key.
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, got {value}")
    return value


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (``10.0.0.2``, ``10.0.0.0/8``, ``::1``)."""
    found = []
    for part in env.get(name, "").split(","):
        if part.strip():
            try:
                ipaddress.ip_network(part.strip(), strict=False)
            except ValueError:
                raise SettingsError(f"{name} must list IP addresses or networks, got {part.strip()!r}") from None
            found.append(part.strip())
    return tuple(found)


_PLAIN_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _mail_address(env: dict[str, str], name: str) -> str | None:
    """A plain address (``jury@stadt.example``), no display name: that has its own variable."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not _PLAIN_ADDRESS.fullmatch(raw):
        raise SettingsError(f"{name} must be a plain e-mail address like jury@example.org, got {raw!r}")
    return raw


def _one_line(env: dict[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if any(c in raw for c in "\r\n\0"):
        raise SettingsError(f"{name} must be a single line")
    return raw or None


def parse_storage_url(url: str | None) -> tuple[str, str, str]:
    """``(backend, location, prefix)`` of AWARD_JURY_STORAGE_URL: ("file", path, "") or
    ("s3", bucket, prefix); ValueError with a message for anything else."""
    if not url:
        return ("file", "", "")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a file:// storage URL names a local folder (file:///srv/files), got {url!r}")
        path = unquote(parts.path)
        if not path:
            raise ValueError(f"a file:// storage URL needs a folder (file:///srv/files), got {url!r}")
        return ("file", path, "")
    if scheme == "s3":
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"an S3 storage URL looks like s3://bucket/prefix, got {url!r}")
        return ("s3", parts.netloc, unquote(parts.path).strip("/"))
    raise ValueError(f"AWARD_JURY_STORAGE_URL must start with file:// or s3://, got {url!r}")


#: The usual AWS variables the S3 storage reads (kept in Settings.storage_options).
AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_ALLOW_HTTP",
)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = Path("var")
    secret_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    smtp_url: str | None = None
    default_locale: str = "de"
    debug: bool = False
    #: A session ends after this long without a request (the page warns before and can extend it).
    session_idle_seconds: int = 8 * 3600
    #: ... and in any case this long after sign-in.
    session_max_seconds: int = 7 * 24 * 3600
    #: Host names accepted besides the base URL's (comma-separated in AWARD_JURY_ALLOWED_HOSTS).
    extra_hosts: tuple[str, ...] = ()
    #: Addresses or networks of the reverse proxies whose X-Forwarded-For / -Proto headers are
    #: believed (AWARD_JURY_TRUSTED_PROXIES, comma-separated; empty: none, the headers are ignored).
    trusted_proxies: tuple[str, ...] = ()
    #: The largest pitch deck a startup may upload (AWARD_JURY_MAX_UPLOAD_MB, default 20).
    max_upload_bytes: int = 20 * 1024 * 1024
    #: The largest form body without a file (AWARD_JURY_MAX_FORM_KB, default 64).
    max_form_bytes: int = 64 * 1024
    #: A request body must arrive within this many seconds (AWARD_JURY_BODY_TIMEOUT_SECONDS,
    #: default 15; uploads get more time, see web/bodies.py).
    body_timeout_seconds: float = 15
    #: The sender address of every mail (AWARD_JURY_MAIL_FROM; unset: noreply@ the base URL's host).
    mail_from: str | None = None
    #: The sender's display name (AWARD_JURY_MAIL_FROM_NAME; unset: the award's name for mails
    #: about an award, "award_jury" for the others).
    mail_from_name: str | None = None
    #: Live pitch day (judging/live_controllers.py): open event streams allowed per web session
    #: and per person (AWARD_JURY_LIVE_STREAMS_PER_SESSION / _PER_PERSON, default 3 and 6; more
    #: get 429 and the page reconnects later), how often a stream reads the stage and checks the
    #: web session, and after how long it ends (the browser then reconnects).
    live_streams_per_session: int = 3
    live_streams_per_person: int = 6
    live_poll_seconds: float = 1.0
    live_stream_seconds: float = 300.0
    #: Where uploaded and generated files are stored (AWARD_JURY_STORAGE_URL): None or
    #: ``file:///folder`` for a local folder (default: ``<data dir>/uploads``), ``s3://bucket/prefix``
    #: for an S3-compatible bucket, with ``storage_options`` (the AWS_* variables) saying where and how.
    storage_url: str | None = None
    storage_options: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Caps on what ``award-jury import`` unpacks (bundle/files.py): bundle.json's size
    #: (AWARD_JURY_IMPORT_MAX_JSON_MB, default 32), each file's (AWARD_JURY_IMPORT_MAX_FILE_MB,
    #: default the deck limit), all files together (AWARD_JURY_IMPORT_MAX_TOTAL_MB, default 1024)
    #: and their number (AWARD_JURY_IMPORT_MAX_FILES, default 10000).
    import_max_json_bytes: int = 32 * 1024 * 1024
    import_max_file_bytes: int = 20 * 1024 * 1024
    import_max_total_bytes: int = 1024 * 1024 * 1024
    import_max_files: int = 10_000
    #: Retention (retention.py, run by ``award-jury run-scheduled`` and hourly inside ``serve``):
    #: audit IP addresses are blanked after AWARD_JURY_RETENTION_AUDIT_IP_DAYS (90), failed
    #: sign-in records deleted after _SIGNIN_DAYS (30), expired links after _TOKEN_DAYS (7) and
    #: outbox files after _OUTBOX_DAYS (30).
    retention_audit_ip_days: int = 90
    retention_signin_days: int = 30
    retention_token_days: int = 7
    retention_outbox_days: int = 30
    #: Webhook deliveries received or given up are deleted after AWARD_JURY_RETENTION_WEBHOOK_DAYS (30).
    retention_webhook_days: int = 30
    #: How often ``serve`` runs the retention rules (AWARD_JURY_SCHEDULER_MINUTES, default 60).
    scheduler_interval_seconds: float = 3600
    #: Webhook endpoints may point at private, loopback, link-local and other non-public
    #: addresses (AWARD_JURY_WEBHOOKS_ALLOW_PRIVATE=true; for tests and closed networks only:
    #: otherwise an organiser could make the server post into its own network).
    webhooks_allow_private: bool = False
    #: Requests per API token and minute, counted in each worker process
    #: (AWARD_JURY_API_REQUESTS_PER_MINUTE, default 300; more get 429 with Retry-After).
    api_requests_per_minute: int = 300
    templates_dir: Path = TEMPLATES_DIR
    static_dir: Path = STATIC_DIR
    migrations_dir: Path = MIGRATIONS_DIR

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("AWARD_JURY_DATA_DIR") or "var")
        raw_base_url = env.get("AWARD_JURY_BASE_URL") or DEFAULT_BASE_URL
        parts = urlsplit(raw_base_url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"AWARD_JURY_BASE_URL must be an http(s) URL, got {raw_base_url!r}")
        # Scheme and host are case-insensitive: keep them lower-case so checks like
        # secure_cookies see "https" however it was written.
        base_url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", "")).rstrip("/")
        secret = env.get("AWARD_JURY_SECRET_KEY") or _load_or_create_secret(data_dir)
        if len(secret) < 16:
            raise SettingsError("AWARD_JURY_SECRET_KEY must be at least 16 characters long")
        storage_url = (env.get("AWARD_JURY_STORAGE_URL") or "").strip() or None
        try:
            parse_storage_url(storage_url)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        max_upload_mb = _positive_int(env, "AWARD_JURY_MAX_UPLOAD_MB", 20)
        return cls(
            storage_url=storage_url,
            storage_options=tuple((name, env[name]) for name in AWS_VARIABLES if env.get(name)),
            database_url=env.get("AWARD_JURY_DATABASE_URL") or DEFAULT_DATABASE_URL,
            data_dir=data_dir,
            secret_key=secret,
            base_url=base_url,
            smtp_url=env.get("AWARD_JURY_SMTP_URL") or None,
            debug=env.get("AWARD_JURY_DEBUG", "") in ("1", "true", "yes"),
            session_idle_seconds=_positive_int(env, "AWARD_JURY_SESSION_IDLE_MINUTES", 8 * 60) * 60,
            session_max_seconds=_positive_int(env, "AWARD_JURY_SESSION_MAX_HOURS", 7 * 24) * 3600,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            max_form_bytes=_positive_int(env, "AWARD_JURY_MAX_FORM_KB", 64) * 1024,
            body_timeout_seconds=_positive_int(env, "AWARD_JURY_BODY_TIMEOUT_SECONDS", 15),
            extra_hosts=tuple(
                h.strip().lower() for h in env.get("AWARD_JURY_ALLOWED_HOSTS", "").split(",") if h.strip()
            ),
            trusted_proxies=_networks(env, "AWARD_JURY_TRUSTED_PROXIES"),
            mail_from=_mail_address(env, "AWARD_JURY_MAIL_FROM"),
            mail_from_name=_one_line(env, "AWARD_JURY_MAIL_FROM_NAME"),
            live_streams_per_session=_positive_int(env, "AWARD_JURY_LIVE_STREAMS_PER_SESSION", 3),
            live_streams_per_person=_positive_int(env, "AWARD_JURY_LIVE_STREAMS_PER_PERSON", 6),
            import_max_json_bytes=_positive_int(env, "AWARD_JURY_IMPORT_MAX_JSON_MB", 32) * 1024 * 1024,
            import_max_file_bytes=_positive_int(env, "AWARD_JURY_IMPORT_MAX_FILE_MB", max_upload_mb) * 1024 * 1024,
            import_max_total_bytes=_positive_int(env, "AWARD_JURY_IMPORT_MAX_TOTAL_MB", 1024) * 1024 * 1024,
            import_max_files=_positive_int(env, "AWARD_JURY_IMPORT_MAX_FILES", 10_000),
            retention_audit_ip_days=_positive_int(env, "AWARD_JURY_RETENTION_AUDIT_IP_DAYS", 90),
            retention_signin_days=_positive_int(env, "AWARD_JURY_RETENTION_SIGNIN_DAYS", 30),
            retention_token_days=_positive_int(env, "AWARD_JURY_RETENTION_TOKEN_DAYS", 7),
            retention_outbox_days=_positive_int(env, "AWARD_JURY_RETENTION_OUTBOX_DAYS", 30),
            retention_webhook_days=_positive_int(env, "AWARD_JURY_RETENTION_WEBHOOK_DAYS", 30),
            scheduler_interval_seconds=_positive_int(env, "AWARD_JURY_SCHEDULER_MINUTES", 60) * 60,
            webhooks_allow_private=env.get("AWARD_JURY_WEBHOOKS_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes"),
            api_requests_per_minute=_positive_int(env, "AWARD_JURY_API_REQUESTS_PER_MINUTE", 300),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Host names (without port) the app answers to: the base URL's, plus loopback names
        when the base URL is on loopback, plus AWARD_JURY_ALLOWED_HOSTS."""
        host = urlsplit(self.base_url).hostname or "127.0.0.1"
        hosts = {host, *self.extra_hosts}
        if host in ("127.0.0.1", "localhost", "::1"):
            hosts |= {"127.0.0.1", "localhost", "::1"}
        return frozenset(hosts)

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only, Path=/.
        return "__Host-award_jury_session" if self.secure_cookies else "award_jury_session"
