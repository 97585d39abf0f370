"""Itaku — application factory.  ``flask --app app …`` finds create_app()."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Config, Flask
from flask_bootstrap import Bootstrap5
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

import assurance
import cloud
import contracts
import incidents
import social
import vendors
from core import (
    api,
    audit_views,
    auth,
    errors,
    exchange_views,
    handover,
    i18n,
    inbox,
    inspection_items,
    pickers,
    plugins,
    security,
    settings,
)
from core import incidents as core_incidents
from core.account_views import bp as auth_bp
from core.admin_views import bp as admin_bp
from core.calendar_views import bp as calendar_bp
from core.checklist_views import bp as checklists_bp
from core.cli import register as register_cli
from core.dashboard import bp as dashboard_bp
from core.db import db
from core.measure_views import init_app as init_measures

ROOT = Path(__file__).resolve().parent

csrf = CSRFProtect()
migrate = Migrate()
bootstrap = Bootstrap5()

# The domains, each plugged in by its init_app (core/plugins.py): contracts build on
# vendors, cloud and social on both; assurance (the yearly loop of self-inspection,
# audit and report) and incidents (one register for every incident) read them through the registry.
DOMAINS = (vendors, contracts, cloud, social, assurance, incidents)

# The settings an administrator sets (typed and checked: core/settings.py), and Flask's
# own that Itaku fixes.
DEFAULTS = {
    **settings.DEFAULTS,
    "BOOTSTRAP_SERVE_LOCAL": True,
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=settings.instance_path(os.environ, str(ROOT / "instance")))
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_domains(app)
    register_exchange(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    """defaults → instance/config.py → ITAKU_* environment → test dict, each value checked
    against its setting's type and range (a wrong one raises settings.SettingsError)."""
    app.config.from_mapping(DEFAULTS)
    from_file = Config(app.instance_path)
    if from_file.from_pyfile("config.py", silent=True):
        app.config.update(settings.check_mapping(from_file, " in instance/config.py"))
    app.config.update(settings.from_environment(os.environ))
    if test_config:
        app.config.update(settings.check_mapping(test_config))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = security.instance_secret_key(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["DATABASE_URL"])
    if test_config and "DATABASE_URL" in test_config:
        app.config["SQLALCHEMY_DATABASE_URI"] = test_config["DATABASE_URL"]
    app.config["STORAGE_PATH"] = app.config["STORAGE_PATH"] or str(Path(app.instance_path) / "files")
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    auth.init_app(app)  # before CSRF: a forbidden POST is a 403 whatever its token
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    bootstrap.init_app(app)
    plugins.init_app(app)
    handover.init_app(app)  # core's own responsibility: the pending requests a user made (人事異動)
    inspection_items.init_app(app)  # core's own self-inspection item (CLS-01, 情報資産の分類)
    core_incidents.init_app(app)  # the incident records' visibility rule, for every page (issue 19)
    app.jinja_env.globals["ORG_NAME"] = str(app.config["ORG_NAME"])


def register_blueprints(app: Flask) -> None:
    for blueprint in (auth_bp, dashboard_bp, checklists_bp, admin_bp, calendar_bp):
        app.register_blueprint(blueprint)
    audit_views.init_app(app)
    inbox.init_app(app)
    init_measures(app)  # 改善措置: every finding's measures (core.measures, issue 18)
    pickers.init_app(app)  # /pick/users, /pick/units; the search keys kept current (issue 20)


def register_domains(app: Flask) -> None:
    for domain in DOMAINS:
        domain.init_app(app)


def register_exchange(app: Flask) -> None:
    """The spreadsheet and API routes of every register added to the registry
    (so after the domains)."""
    exchange_views.init_app(app)
    csrf.exempt(api.init_app(app))  # signed in by token only, never by the cookie


def register_commands(app: Flask) -> None:
    register_cli(app)
