"""Response headers and the secret key.

The headers are a few fixed lines, so they are set here rather than through
an extension (flask-talisman also rewrites to HTTPS, which an office's
closed network behind its own proxy decides for itself)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_login import current_user

from core.hygiene import refuse_bad_characters

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html" and "Cache-Control" not in response.headers and _signed_in():
        # A signed-in page holds the register's data: never kept by the
        # browser or a proxy (the back button after sign-out shows nothing).
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated)


def instance_secret_key(instance_path: str) -> str:
    """Read ``instance/secret_key``, creating it (mode 0600) on first use.
    O_EXCL makes concurrent first starts (several gunicorn workers) agree."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path.read_text().strip()


def init_app(app: Flask) -> None:
    app.before_request(refuse_bad_characters)
    app.after_request(_headers)
