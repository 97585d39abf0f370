"""Itaku — application factory.  ``flask --app app …`` finds create_app()."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from core import auth, errors, i18n, security
from core.db import db

ROOT = Path(__file__).resolve().parent

csrf = CSRFProtect()
migrate = Migrate()
bootstrap = Bootstrap5()

DEFAULTS = {
    "ORG_NAME": "滝川地区広域消防事務組合",
    # Printed in the footer of every document (e.g. 取扱注意, 自治体機密性2).
    "DOCUMENT_MARKING": "取扱注意",
    "DATABASE_URL": "sqlite:///itaku.db",  # relative paths live in instance/
    "STORAGE_PATH": None,  # default: instance/files
    "IDLE_TIMEOUT_MINUTES": 30,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "PASSWORD_MIN_LENGTH": 12,
    "PASSWORD_HASH_METHOD": "scrypt",
    "DEMO_PASSWORD": "itaku-demo-2026",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    "BOOTSTRAP_SERVE_LOCAL": True,
    "BABEL_DEFAULT_LOCALE": "ja",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Reminder email (flask remind).
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_STARTTLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": "itaku@localhost",
    # Social media: the public list of official accounts (/social/official) is
    # off unless turned on; an account without posts for this many days is flagged.
    "PUBLIC_ACCOUNT_LIST": False,
    "SOCIAL_DORMANT_DAYS": 180,
    # The address users reach Itaku at, for links in reminder emails.
    "BASE_URL": "http://127.0.0.1:5000",
}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("ITAKU_INSTANCE_PATH") or str(ROOT / "instance"))
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    """defaults → instance/config.py → ITAKU_* environment → test dict."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ITAKU")
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = security.instance_secret_key(app.instance_path)
    # from_prefixed_env reads values as JSON: a key of digits would be a number.
    app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["DATABASE_URL"])
    if test_config and "DATABASE_URL" in test_config:
        app.config["SQLALCHEMY_DATABASE_URI"] = test_config["DATABASE_URL"]
    app.config["STORAGE_PATH"] = app.config["STORAGE_PATH"] or str(Path(app.instance_path) / "files")
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    auth.init_app(app)  # before CSRF: a forbidden POST is a 403 whatever its token
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    bootstrap.init_app(app)
    app.jinja_env.globals["ORG_NAME"] = str(app.config["ORG_NAME"])


def register_blueprints(app: Flask) -> None:
    from cloud import bp as cloud_bp
    from contracts import bp as contracts_bp
    from contracts import verification_bp
    from core import api, exchange_views
    from core.account_views import bp as auth_bp
    from core.admin_views import bp as admin_bp
    from core.audit_views import bp as audit_bp
    from core.calendar_views import bp as calendar_bp
    from core.checklist_views import bp as checklists_bp
    from core.dashboard import bp as dashboard_bp
    from social import bp as social_bp
    from vendors import bp as vendors_bp

    for blueprint in (auth_bp, dashboard_bp, vendors_bp, contracts_bp, verification_bp, cloud_bp, social_bp,
                      checklists_bp, audit_bp, admin_bp, calendar_bp):
        app.register_blueprint(blueprint)
    exchange_views.init_app(app)
    csrf.exempt(api.init_app(app))  # signed in by token only, never by the cookie


def register_commands(app: Flask) -> None:
    from core.cli import register

    register(app)
