"""Configuration: defaults, then SAMENOP_* environment variables, then a fail-fast check."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import os
import re
import secrets
import ssl
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from registry.core.vocabulary import TypeInzet

PROJECT_ROOT = Path(__file__).resolve().parents[2]

log = logging.getLogger(__name__)

# what the app writes holds personal data or the secret key: for its owner only
PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


class ConfigError(RuntimeError):
    """The configuration is unusable; the app refuses to start."""


def _instance_dir() -> Path:
    return Path(os.environ.get("SAMENOP_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def tighten(path: Path, mode: int) -> None:
    """Take group's and others' access to an existing file or directory away (one written
    before this rule, or by a tool with a looser umask); one owned by another user stays as
    it is, with a warning."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & 0o077:
        try:
            path.chmod(mode)
        except PermissionError:
            log.warning("%s is readable by others (mode %o) and not ours to change", path, current)


def private_directory(path: Path, *, tighten_existing: bool = True) -> None:
    """Create a directory (and missing parents) that only its owner enters; an existing one is
    tightened unless `tighten_existing` is False (a directory the administrator chose)."""
    existed = path.is_dir()
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    if tighten_existing or not existed:
        tighten(path, PRIVATE_DIRECTORY)


def private_file(path: Path) -> None:
    """Create an empty file readable by its owner only if there is none (SQLite then creates
    its -wal, -shm and -journal files with the same mode); an existing one is tightened. A
    missing directory is left for whoever opens the file to report."""
    with contextlib.suppress(FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    tighten(path, PRIVATE_FILE)


def _generated(instance: Path, name: str, make: Callable[[], str]) -> str:
    """Generate a key into instance/`name` once, readable by the owner only.

    Several workers may start at once on a fresh instance directory: each writes its key to
    a private file and links it into place; the first link wins and the others use that key,
    so nobody ever reads a half-written file or fails on one that appeared meanwhile."""
    path = instance / name
    if not path.exists():
        private_directory(instance, tighten_existing=False)
        draft = instance / f".{name}.{os.getpid()}.{secrets.token_hex(8)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            # another worker may have been first: then its key is the key
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_text().strip()


def _secret_key(instance: Path) -> str:
    return _generated(instance, "secret_key", lambda: secrets.token_urlsafe(48))


def totp_key(instance: Path | None = None) -> str:
    """The key that encrypts the TOTP secrets in the database (Fernet: 32 bytes, url-safe
    base64): SAMENOP_TOTP_KEY, or generated once into instance/totp_key (mode 0600). It is kept
    outside the database, so that a copy of the database or a backup does not open the second
    factor. The migration that encrypts existing secrets reads it here too, as the app does."""
    given = os.environ.get("SAMENOP_TOTP_KEY")
    if given is not None:
        return given.strip()
    return _generated(
        _instance_dir() if instance is None else instance,
        "totp_key",
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration mapping for create_app."""
    env = os.environ
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_DIR", _instance_dir()))
    default_database = f"sqlite:///{instance / 'samenop.db'}"
    config: dict[str, Any] = {
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": database_url(env.get("SAMENOP_DATABASE_URL") or default_database),
        "INDEX_DIR": env.get("SAMENOP_INDEX_DIR") or str(instance / "index"),
        "SMTP_URL": env.get("SAMENOP_SMTP_URL") or None,
        # a private CA that signed the mail server's certificate (PEM); unset: the system's store
        "SMTP_CA_FILE": env.get("SAMENOP_SMTP_CA_FILE") or None,
        # production: SAMENOP_ENV=production (the README's production setup). There the sender
        # must be given: mail from samenop@localhost is refused or filtered by real mail servers
        "ENVIRONMENT": env.get("SAMENOP_ENV") or "development",
        "MAIL_FROM": env.get("SAMENOP_MAIL_FROM") or None,
        "TIMEZONE": env.get("SAMENOP_TIMEZONE", "Europe/Amsterdam"),
        "BASE_URL": env.get("SAMENOP_BASE_URL", "http://127.0.0.1:8000"),
        "SESSION_COOKIE_SECURE": _truthy(env.get("SAMENOP_COOKIE_SECURE", "true")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "samenop_session",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_ABSOLUTE_HOURS": 12,
        "TOKEN_IDLE_MINUTES": 30,
        "TOKEN_ABSOLUTE_HOURS": 12,
        "ENROLMENT_VALID_HOURS": 72,
        # argon2id parameters; tests lower them, production keeps the library's defaults
        "PASSWORD_HASH_PARAMS": {},
        # rate limits (registry.web.ratelimit): per client address, per address, per user
        "TOKEN_RATE_LIMIT": env.get("SAMENOP_TOKEN_RATE_LIMIT") or "30 per minute",
        "LOGIN_RATE_LIMIT": env.get("SAMENOP_LOGIN_RATE_LIMIT") or "30 per minute",
        "LOOKUP_RATE_LIMIT": env.get("SAMENOP_LOOKUP_RATE_LIMIT") or "120 per minute",
        # where the counters live: memory:// is per process; redis://host:port is shared
        "RATELIMIT_STORAGE_URI": env.get("SAMENOP_RATE_LIMIT_STORAGE") or "memory://",
        # `samenop purge`: personal data of plans ended longer ago than this, and audit rows
        # (NEN 7513 expects them kept for years; never shorter than the data they account for)
        "RETENTION_MONTHS": env.get("SAMENOP_RETENTION_MONTHS") or "12",
        "AUDIT_RETENTION_MONTHS": env.get("SAMENOP_AUDIT_RETENTION_MONTHS") or "84",
        # the largest request body read (Flask answers 413 above it, before parsing): a plan with
        # every row and text at its maximum is 120 kB, 700 kB when every letter is accented and
        # JSON-escaped (\u00e9)
        "MAX_CONTENT_LENGTH": env.get("SAMENOP_MAX_REQUEST_BYTES") or str(1024 * 1024),
        # reverse proxies in front that set X-Forwarded-For (and -Proto): 0 = none, the
        # connecting peer is the client (registry.app applies werkzeug's ProxyFix)
        "TRUSTED_PROXIES": env.get("SAMENOP_TRUSTED_PROXIES") or "0",
        # the TLS terminators (addresses or networks, comma-separated) whose X-Client-Cert header
        # (the client certificate they verified, URL-encoded PEM) identifies a machine client;
        # empty: the header is never read (registry.web.clients)
        "CLIENT_CERT_PROXIES": env.get("SAMENOP_CLIENT_CERT_PROXIES") or "",
        # lookups per user in the last hour, counted in the database (one budget across every
        # worker and server): all of them, and those on a name without a birth date (a candidate
        # list, and each candidate opened from it)
        "LOOKUP_HOURLY_LIMIT": env.get("SAMENOP_LOOKUP_HOURLY_LIMIT") or "120",
        "NAME_LOOKUP_HOURLY_LIMIT": env.get("SAMENOP_NAME_LOOKUP_HOURLY_LIMIT") or "20",
        # when a user's lookups of a day are flagged for the privacy officer (registry.privacy.flags)
        "FLAG_LOOKUPS_PER_HOUR": env.get("SAMENOP_FLAG_LOOKUPS_PER_HOUR") or "30",
        "FLAG_NAME_ONLY_PER_DAY": env.get("SAMENOP_FLAG_NAME_ONLY_PER_DAY") or "10",
        "FLAG_WITHOUT_REPORT_PER_DAY": env.get("SAMENOP_FLAG_WITHOUT_REPORT_PER_DAY") or "5",
        "FLAG_HISTORY_MINIMUM": env.get("SAMENOP_FLAG_HISTORY_MINIMUM") or "20",
        # Monitoring's projection: the inhabitants of the whole region the network projects its
        # rate onto (the pilot: 842000); unset, only the gemeenten's own figures are shown
        "PROJECTION_POPULATION": env.get("SAMENOP_PROJECTION_POPULATION") or None,
        # hours of direct work per melding of each type inzet, for the capacity table:
        # "code=hours,..." over the pilot's estimates (the middle of its ranges)
        "HOURS_PER_TYPE_INZET": env.get("SAMENOP_HOURS_PER_TYPE_INZET") or "",
        # a spoedmelding (an arrest, a temporary restraining order, or marked urgent) is due this
        # many hours after the incident: the public prosecutor decides on an arrested suspect
        # within 9 hours, and the family's professionals must be heard before that
        "SPOED_HOURS": env.get("SAMENOP_SPOED_HOURS") or "9",
        # how long one webhook attempt may take (connect, send, answer) before it counts as failed
        # for now and is tried again later (registry.ops.webhook)
        "WEBHOOK_TIMEOUT_SECONDS": env.get("SAMENOP_WEBHOOK_TIMEOUT_SECONDS") or "10",
        # watching it (registry.observe, docs/operations.md): log lines as JSON (or Python's text),
        # who may read GET /metrics besides loopback, and how far behind the search index may be
        # before GET /health fails; checked by registry.observe at start
        "LOG_FORMAT": env.get("SAMENOP_LOG_FORMAT") or "json",
        "LOG_LEVEL": env.get("SAMENOP_LOG_LEVEL") or "INFO",
        "METRICS_TOKEN": env.get("SAMENOP_METRICS_TOKEN") or None,
        "METRICS_ALLOW": env.get("SAMENOP_METRICS_ALLOW") or "",
        "INDEX_MAX_LAG_SECONDS": env.get("SAMENOP_INDEX_MAX_LAG_SECONDS") or "60",
    }
    secret = env.get("SAMENOP_SECRET_KEY")
    config["SECRET_KEY"] = secret if secret is not None else None
    config.update(overrides)
    if config["DATABASE_URL"] == default_database:
        try:
            # SQLite creates the file, not its directory
            private_directory(instance, tighten_existing=False)
        except OSError as exc:
            raise ConfigError(f"SAMENOP_INSTANCE_DIR cannot be created: {exc}") from None
    if config["SECRET_KEY"] is None:
        config["SECRET_KEY"] = _secret_key(instance)
    if config.get("TOTP_KEY") is None:
        config["TOTP_KEY"] = totp_key(instance)
    validate(config)
    return config


def validate(config: dict[str, Any]) -> None:
    """Refuse to start with a configuration that would fail later or run insecurely."""
    if not config.get("SECRET_KEY") or len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError("SAMENOP_SECRET_KEY must be at least 32 characters")
    _totp_key(config)
    try:
        url = make_url(database_url(config["DATABASE_URL"]))
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"SAMENOP_DATABASE_URL is not a database URL: {exc}") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError("SAMENOP_DATABASE_URL must be a sqlite:// or postgresql:// URL")
    if url.get_backend_name() == "postgresql" and url.drivername not in {
        "postgresql",
        "postgresql+psycopg",
    }:
        raise ConfigError("SAMENOP_DATABASE_URL: PostgreSQL is used through psycopg 3: postgresql+psycopg://")
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url.database, url.query)
    else:
        _check_postgresql_hosts(url)
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SAMENOP_TIMEZONE is not a known time zone: {config['TIMEZONE']}") from None
    index_dir = Path(config["INDEX_DIR"])
    try:
        private_directory(index_dir)
    except OSError as exc:
        raise ConfigError(f"SAMENOP_INDEX_DIR cannot be created: {exc}") from None
    if not os.access(index_dir, os.W_OK):
        raise ConfigError(f"SAMENOP_INDEX_DIR is not writable: {index_dir}")
    if config["SMTP_URL"] and not str(config["SMTP_URL"]).startswith(("smtp://", "smtps://")):
        raise ConfigError("SAMENOP_SMTP_URL must look like smtp://host:port")
    _smtp_ca_file(config)
    _mail_from(config)
    _whole_number(config, "MAX_CONTENT_LENGTH", MIN_REQUEST_BYTES, MAX_REQUEST_BYTES, "a number of bytes")
    _whole_number(config, "TRUSTED_PROXIES", 0, MAX_TRUSTED_PROXIES, "the number of reverse proxies in front")
    _networks(config, "CLIENT_CERT_PROXIES")
    _networks(config, "METRICS_ALLOW")  # who besides loopback may read GET /metrics (registry.observe)
    for key in COUNTS:
        # the hourly budget may be 0: none at all, for a load test (bench/) and never in production
        minimum = 0 if key == "LOOKUP_HOURLY_LIMIT" else 1
        _whole_number(config, key, minimum, MAX_COUNT, "a whole number")
    _projection(config)
    _whole_number(config, "SPOED_HOURS", 1, MAX_SPOED_HOURS, "a number of hours")
    _whole_number(config, "WEBHOOK_TIMEOUT_SECONDS", 1, MAX_WEBHOOK_TIMEOUT_SECONDS, "a number of seconds")
    retention = _months(config, "RETENTION_MONTHS", minimum=1)
    # the audit triggers never let a row younger than 12 months go (migration 23f28ed23653)
    _months(config, "AUDIT_RETENTION_MONTHS", minimum=max(MIN_AUDIT_RETENTION_MONTHS, retention))


#: the Gelderland pilot's estimated hours per type inzet (PILOT-TABLES.md): 1.5 for VT's phone
#: advice, the middle of its ranges for the rest (4-5 on site, 2-3 at a distance or in
#: consultation); "other" has no estimate and no hours
PILOT_HOURS_PER_TYPE_INZET = {
    "vt_phone_advice": 1.5,
    "vt_on_site_with_police": 4.5,
    "vt_remote": 2.5,
    "vt_sez_joint_assessment": 2.5,
    "vt_sez_on_site": 4.5,
    "sez_on_site_with_police": 4.5,
    "sez_remote": 2.5,
}


def _projection(config: dict[str, Any]) -> None:
    """PROJECTION_POPULATION: a whole number of inhabitants, or unset. HOURS_PER_TYPE_INZET:
    "code=hours,..." (or a mapping) over the pilot's estimates; each code a TypeInzet, each
    number of hours from 0 to 100. Both stored back parsed."""
    raw = config.get("PROJECTION_POPULATION")
    if raw is not None and raw != "":
        try:
            population = int(str(raw).replace(".", "").replace(" ", ""))
        except ValueError:
            population = 0
        if population <= 0:
            raise ConfigError(f"SAMENOP_PROJECTION_POPULATION must be a number of inhabitants, not {raw!r}")
        config["PROJECTION_POPULATION"] = population
    else:
        config["PROJECTION_POPULATION"] = None
    given = config.get("HOURS_PER_TYPE_INZET") or {}
    if isinstance(given, str):
        pairs = [item.split("=", 1) for item in given.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ConfigError("SAMENOP_HOURS_PER_TYPE_INZET must look like vt_phone_advice=1.5,vt_remote=2.5")
        given = {code.strip(): value.strip() for code, value in pairs}
    hours: dict[str, float] = dict(PILOT_HOURS_PER_TYPE_INZET)
    for code, value in dict(given).items():
        if code not in TypeInzet.codes():
            raise ConfigError(
                f"SAMENOP_HOURS_PER_TYPE_INZET: {code} is no type inzet ({', '.join(TypeInzet.codes())})"
            )
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            number = -1.0
        if not 0 <= number <= 100:
            raise ConfigError(
                f"SAMENOP_HOURS_PER_TYPE_INZET: {code}={value} is no number of hours (0 to 100)"
            )
        hours[code] = number
    config["HOURS_PER_TYPE_INZET"] = hours


def _totp_key(config: dict[str, Any]) -> None:
    """TOTP_KEY: 32 bytes in url-safe base64 (what `Fernet.generate_key()` prints)."""
    raw = str(config.get("TOTP_KEY") or "")
    try:
        valid = len(base64.urlsafe_b64decode(raw.encode("ascii"))) == 32 and len(raw) == 44
    except (ValueError, UnicodeEncodeError):
        valid = False
    if not valid:
        raise ConfigError(
            "SAMENOP_TOTP_KEY must be 32 bytes in url-safe base64 (44 characters), e.g. the output of "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )


def _smtp_ca_file(config: dict[str, Any]) -> None:
    """SMTP_CA_FILE: a PEM file of CA certificates the mail server's certificate is verified
    against; refused at start when it is missing or holds no certificate (not at 3 a.m., when
    the first digest would fail)."""
    ca_file = config.get("SMTP_CA_FILE")
    if not ca_file:
        config["SMTP_CA_FILE"] = None
        return
    try:
        ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"SAMENOP_SMTP_CA_FILE is not a readable PEM file of CA certificates: {exc}"
        ) from None


ENVIRONMENTS = ("development", "production")
DEVELOPMENT_MAIL_FROM = "samenop@localhost"
# one address, as SMTP takes it: something@domain, no spaces, no list, no display name
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")


def _mail_from(config: dict[str, Any]) -> None:
    """ENVIRONMENT: development or production. MAIL_FROM: one address; in production it must be
    given, in a real domain (with a dot, not localhost); elsewhere it defaults to
    samenop@localhost."""
    environment = str(config.get("ENVIRONMENT") or "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"SAMENOP_ENV must be development or production, not {environment!r}")
    config["ENVIRONMENT"] = environment
    sender = str(config.get("MAIL_FROM") or "").strip()
    if not sender:
        if environment == "production":
            raise ConfigError(
                "SAMENOP_MAIL_FROM must be set in production (SAMENOP_ENV=production): "
                "the sender of every e-mail, e.g. samenop@veiligthuis-noord.nl"
            )
        sender = DEVELOPMENT_MAIL_FROM
    if _ADDRESS.fullmatch(sender) is None or len(sender) > 254:
        raise ConfigError(f"SAMENOP_MAIL_FROM must be one e-mail address, not {sender!r}")
    domain = sender.rpartition("@")[2].lower()
    if environment == "production" and ("." not in domain or domain.endswith(("localhost", ".local"))):
        raise ConfigError(
            f"SAMENOP_MAIL_FROM must be an address of a real domain in production, not {sender!r}"
        )
    config["MAIL_FROM"] = sender


MIN_AUDIT_RETENTION_MONTHS = 12
_MAX_MONTHS = 1200


def _months(config: dict[str, Any], key: str, minimum: int) -> int:
    """A whole number of months from minimum to 100 years; stored back as an int."""
    name = f"SAMENOP_{key}"
    raw = config.get(key)
    try:
        months = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        months = None
    if months is None:
        raise ConfigError(f"{name} must be a whole number of months, not {raw!r}")
    if not minimum <= months <= _MAX_MONTHS:
        raise ConfigError(f"{name} must be from {minimum} to {_MAX_MONTHS} months, not {months}")
    config[key] = months
    return months


# a plan of plain letters with every row and text at its maximum must fit (120 kB)
MIN_REQUEST_BYTES = 128 * 1024
MAX_REQUEST_BYTES = 100 * 1024 * 1024


MAX_TRUSTED_PROXIES = 10  # one too many lets a client choose the address it is audited under
# the budgets and flag thresholds: whole numbers, at least 1
COUNTS = (
    "LOOKUP_HOURLY_LIMIT",
    "NAME_LOOKUP_HOURLY_LIMIT",
    "FLAG_LOOKUPS_PER_HOUR",
    "FLAG_NAME_ONLY_PER_DAY",
    "FLAG_WITHOUT_REPORT_PER_DAY",
    "FLAG_HISTORY_MINIMUM",
)
MAX_COUNT = 1_000_000_000
# a spoedmelding due later than the next working day would be no faster than any other report
MAX_SPOED_HOURS = 72
# a deliverer holds its claimed rows for ten minutes (registry.ops.outbox.CLAIM): a batch of slow
# endpoints must fit in it
MAX_WEBHOOK_TIMEOUT_SECONDS = 30
# where a setting's environment variable has another name than SAMENOP_<key>
_VARIABLES = {"MAX_CONTENT_LENGTH": "SAMENOP_MAX_REQUEST_BYTES"}


def _whole_number(config: dict[str, Any], key: str, minimum: int, maximum: int, what: str) -> int:
    """A whole number from minimum to maximum; stored back as an int."""
    raw = config.get(key)
    try:
        number = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        name = _VARIABLES.get(key, f"SAMENOP_{key}")
        raise ConfigError(f"{name} must be {what} from {minimum} to {maximum}, not {raw!r}")
    config[key] = number
    return number


# libpq's multi-host form in the URL's authority (user@db1:5432,db2:5432/samenop), which
# SQLAlchemy's URL parser does not read: rewritten to the query form it does read
_HOST_LIST = re.compile(
    r"^(?P<scheme>[\w+.-]+://)(?P<user>[^@/?]*@)?(?P<hosts>[^/?@]*,[^/?@]*)(?P<rest>[/?].*)?$"
)

# what libpq calls a session on the primary: the only kind of server the app may write to
_PRIMARY_SESSIONS = {"read-write", "primary"}


def database_url(url: str) -> str:
    """SAMENOP_DATABASE_URL as SQLAlchemy reads it. A primary and its standby are named either
    in the query (`?host=/run/a,/run/b&port=5432,5433`, or `?host=db1:5432&host=db2:5432`) or,
    as libpq writes them, in the authority (`user@db1:5432,db2:5432/samenop`), which is
    rewritten here to `user@/samenop?host=db1:5432&host=db2:5432`. Any other URL is returned
    as it is."""
    match = _HOST_LIST.match(url)
    if match is None:
        return url
    path, _, query = (match["rest"] or "").partition("?")
    hosts = "&".join(f"host={host}" for host in match["hosts"].split(",") if host)
    return f"{match['scheme']}{match['user'] or ''}{path or '/'}?{hosts}{'&' + query if query else ''}"


def _database_hosts(url: URL) -> list[str]:
    """The hosts a PostgreSQL URL names, in the order libpq tries them (unix socket directories
    or host names, with their port when it is written beside them)."""
    named = url.query.get("host", ())
    listed = [named] if isinstance(named, str) else list(named)
    if url.host:
        listed.insert(0, url.host)
    return [host for entry in listed for host in entry.split(",") if host]


def _check_postgresql_hosts(url: URL) -> None:
    """Several hosts (a primary and its standby) only with target_session_attrs=read-write:
    otherwise libpq would settle on a standby when the first host is down, and every write
    would fail there. A host list and a port list of different lengths, or the two forms of
    the list mixed, are refused at start rather than at the first connection."""
    hosts = _database_hosts(url)
    if len(hosts) > 1 and url.query.get("target_session_attrs") not in _PRIMARY_SESSIONS:
        raise ConfigError(
            "SAMENOP_DATABASE_URL names several hosts: add target_session_attrs=read-write, so "
            "that the app connects to whichever of them is the primary"
        )
    engine = None
    try:
        # SQLAlchemy's dialect reads the lists as psycopg will get them, and says what is wrong
        engine = create_engine(url)
        engine.dialect.create_connect_args(engine.url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"SAMENOP_DATABASE_URL: {exc}") from None
    finally:
        if engine is not None:
            engine.dispose()


def _networks(config: dict[str, Any], key: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Addresses or networks (10.0.0.5, 10.0.0.0/24, ::1), comma-separated; stored back as a tuple."""
    raw = config.get(key) or ""
    if isinstance(raw, tuple):
        return raw
    networks = []
    for part in str(raw).replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"SAMENOP_{key}: not an address or network: {part.strip()!r}") from None
    config[key] = tuple(networks)
    return config[key]


def _check_sqlite_file(database: str | None, query: Any) -> None:
    """SQLite creates the file but not its directory: a missing one would fail at the first request."""
    if not database or database == ":memory:" or query.get("uri"):
        return
    directory = Path(database).parent
    if not directory.is_dir():
        raise ConfigError(f"SAMENOP_DATABASE_URL: no such directory for the SQLite file: {directory}")
    if not os.access(directory, os.W_OK):
        raise ConfigError(f"SAMENOP_DATABASE_URL: cannot write the SQLite file's directory: {directory}")
