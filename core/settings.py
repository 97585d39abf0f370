"""Itaku's settings: one typed table, checked at start-up.

Read in this order, later ones winning: the defaults below → ``instance/config.py`` →
``ITAKU_<NAME>`` environment variables → the test dict.  Every value from each source
is checked against its setting's type and range; a wrong value stops the app with one
line naming the setting and what it accepts.  An ``ITAKU_*`` variable that is no
setting stops it too: a typo such as ``ITAKU_SESION_COOKIE_SECURE`` would otherwise be
ignored and leave the cookie insecure without a word.

A small table rather than pydantic-settings: the rules are few, the messages are the
house's own (one line, naming the variable as the administrator wrote it), and the
layering through Flask's config needs no second model of the same settings.
"""
from __future__ import annotations

import difflib
import os
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

try:  # gunicorn prints an AppImportError as its bare message and stops, without a traceback.
    from gunicorn.errors import AppImportError as _Base
except ImportError:  # pragma: no cover - gunicorn is a runtime requirement
    _Base = Exception
from click import ClickException


class SettingsError(ClickException, _Base):
    """A setting with a wrong value, as the one line to show: ``NAME: must be … (got '…')``.

    A ClickException, so ``flask …`` prints it as one ``Error:`` line; an AppImportError,
    so gunicorn prints it and stops instead of restarting workers that cannot boot."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


PREFIX = "ITAKU_"
# Read by the tests or before the config exists, not settings of the app.
NOT_SETTINGS = ("ITAKU_TEST_", "ITAKU_INSTANCE_PATH")


def _words(value) -> str:
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def boolean(value) -> bool:
    value = _words(value)
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        for truth, words in ((True, ("1", "true", "yes", "on")), (False, ("0", "false", "no", "off"))):
            if value.lower() in words:
                return truth
    raise ValueError("must be one of 1/0, true/false, yes/no, on/off")


def whole(low: int, high: int, unit: str = "") -> Callable:
    def parse(value) -> int:
        # ASCII digits only: int() would also take "１０" and "٣", and NFKC turns "²" into "2".
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip(" ")):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise ValueError(f"must be a whole number{unit} from {low} to {high}")
    return parse


def text(*, empty: bool = False, optional: bool = False) -> Callable:
    def parse(value):
        if value is None and optional:
            return None
        if not isinstance(value, str) or any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("must be text without control characters")
        if not value.strip() and not (empty or optional):
            raise ValueError("must not be empty")
        return value if value.strip() or not optional else None
    return parse


def secret_key(value):
    """Text or bytes (Flask takes both; its tutorial writes bytes); None or empty: generated."""
    if value in (None, "", b""):
        return None
    if isinstance(value, bytes) or (isinstance(value, str) and value.isprintable()):
        return value
    raise ValueError("must be text without control characters")


def one_of(*choices: str) -> Callable:
    def parse(value) -> str:
        for choice in choices:
            if isinstance(value, str) and _words(value).lower() == choice.lower():
                return choice
        raise ValueError(f"must be one of {', '.join(choices)}")
    return parse


def database_url(value) -> str:
    try:
        backend = make_url(value).get_backend_name() if isinstance(value, str) else None
    except (ArgumentError, ValueError):
        backend = None
    if backend not in ("sqlite", "postgresql"):
        raise ValueError("must be a database URL: sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/NAME")
    return value


def web_address(value) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("must be an http:// or https:// address with a host name, such as https://itaku.example.lg.jp")
    return value


def email_address(value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValueError("must be an email address such as itaku@example.lg.jp")
    return value


def folder(value) -> str | None:
    """An absolute path to a folder that exists or can be made (empty: the default)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "\0" in value or not os.path.isabs(value):
        raise ValueError("must be an absolute path to a folder")
    if Path(value).exists() and not Path(value).is_dir():
        raise ValueError("must be an absolute path to a folder, not a file")
    return value


def password_hash_method(value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"scrypt(:\d+:\d+:\d+)?|pbkdf2(:sha256|:sha512)?(:\d+)?", value):
        raise ValueError("must be scrypt, scrypt:N:R:P, pbkdf2 or pbkdf2:sha256:ITERATIONS")
    return value


def time_zone(value) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError("must be a time zone name such as Asia/Tokyo") from None
    return value


MB = 1024 * 1024
# name: (default, parse, hide the value in messages)
SETTINGS: dict[str, tuple[object, Callable, bool]] = {
    "SECRET_KEY": (None, secret_key, True),  # None: generated once into instance/secret_key
    "ORG_NAME": ("滝川地区広域消防事務組合", text(), False),
    # Printed in the footer of every document (e.g. 取扱注意, 自治体機密性2).
    "DOCUMENT_MARKING": ("取扱注意", text(empty=True), False),
    # How documents print dates: wareki (令和8年4月1日, as the interface) or iso (2026-04-01).
    "DOCUMENT_DATES": ("wareki", one_of("wareki", "iso"), False),
    "DATABASE_URL": ("sqlite:///itaku.db", database_url, True),  # relative paths live in instance/
    "STORAGE_PATH": (None, folder, False),  # None: instance/files
    "IDLE_TIMEOUT_MINUTES": (30, whole(1, 1440), False),
    "LOGIN_MAX_FAILURES": (5, whole(1, 100), False),
    "LOGIN_LOCK_MINUTES": (15, whole(1, 10080), False),
    "PASSWORD_MIN_LENGTH": (12, whole(8, 128), False),
    "PASSWORD_HASH_METHOD": ("scrypt", password_hash_method, False),
    "DEMO_PASSWORD": ("itaku-demo-2026", text(), True),
    "SESSION_COOKIE_SECURE": (False, boolean, False),
    "SESSION_COOKIE_HTTPONLY": (True, boolean, False),
    "SESSION_COOKIE_SAMESITE": ("Lax", one_of("Lax", "Strict", "None"), False),
    "MAX_CONTENT_LENGTH": (25 * MB, whole(MB, 1024 * MB, " of bytes"), False),
    "BABEL_DEFAULT_LOCALE": ("ja", one_of("ja", "en"), False),
    "BABEL_DEFAULT_TIMEZONE": ("Asia/Tokyo", time_zone, False),
    # Reminder email (flask remind).
    "MAIL_SERVER": ("localhost", text(), False),
    "MAIL_PORT": (25, whole(1, 65535), False),
    "MAIL_STARTTLS": (False, boolean, False),
    "MAIL_USERNAME": (None, text(optional=True), False),
    "MAIL_PASSWORD": (None, text(optional=True), True),
    "MAIL_SENDER": ("itaku@localhost", email_address, False),
    # Social media: the public list of official accounts (/social/official) is
    # off unless turned on; an account without posts for this many days is flagged.
    "PUBLIC_ACCOUNT_LIST": (False, boolean, False),
    "SOCIAL_DORMANT_DAYS": (180, whole(1, 3650), False),
    # A spreadsheet import of more rows than this runs as a job the page polls
    # (core.jobs), not within the request.
    "IMPORT_INLINE_ROWS": (300, whole(1, 5000, " of rows"), False),
    # A vendor's selection (選定) covers a new contract for this many days after its
    # date, when the officer confirms it for the contract (issue 17).
    "SELECTION_VALID_DAYS": (365, whole(1, 3650, " of days"), False),
    # Incidents (issue 19): the APPI art. 68 reports to the Personal Information
    # Protection Commission are due this many days after the body learned of the
    # breach (preliminary: "promptly", about 3–5 days; final: 30, or 60 when
    # wrongful intent caused it); a contractor reports an incident within this
    # many hours of detecting it (C10) when its contract says nothing else.
    "PPC_PRELIMINARY_DAYS": (5, whole(1, 10, " of days"), False),
    "PPC_FINAL_DAYS": (30, whole(1, 365, " of days"), False),
    "PPC_FINAL_DAYS_WRONGFUL": (60, whole(1, 365, " of days"), False),
    "CONTRACTOR_REPORT_HOURS": (24, whole(1, 720, " of hours"), False),
    # The address users reach Itaku at, for links in reminder emails.
    "BASE_URL": ("http://127.0.0.1:5000", web_address, False),
}
DEFAULTS = {name: default for name, (default, _parse, _secret) in SETTINGS.items()}


def check(name: str, value, label: str | None = None):
    """The value of setting ``name`` in its type, or SettingsError naming ``label``."""
    _default, parse, secret = SETTINGS[name]
    try:
        return parse(value)
    except ValueError as error:
        got = "" if secret else f" (got {value!r})"
        raise SettingsError(f"{label or name}: {error}{got}") from None


def check_mapping(values: Mapping, source: str = "") -> dict:
    """Every known setting in ``values`` checked; other keys (Flask's own) as they are."""
    return {name: check(name, value, f"{name}{source}") if name in SETTINGS else value
            for name, value in values.items()}


def from_environment(environ: Mapping[str, str]) -> dict:
    """The ITAKU_* variables as settings; an unknown one is refused, with the likely intended name."""
    found = {}
    for variable, value in sorted(environ.items()):
        if not variable.startswith(PREFIX) or variable.startswith(NOT_SETTINGS):
            continue
        name = variable[len(PREFIX):]
        if name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            hint = f"did you mean {PREFIX}{close[0]}? " if close else ""
            raise SettingsError(f"{variable}: not a setting of Itaku ({hint}the settings are listed in "
                                f"the README's Configuration section)")
        found[name] = check(name, value, variable)
    return found


def instance_path(environ: Mapping[str, str], default: str) -> str:
    """ITAKU_INSTANCE_PATH (absolute; a relative one is taken from the current folder), made if missing."""
    value = environ.get("ITAKU_INSTANCE_PATH") or default
    path = Path(value).absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"ITAKU_INSTANCE_PATH: must be a folder that exists or can be made "
                            f"(got {value!r}: {error.strerror})") from None
    return str(path)
