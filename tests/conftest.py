"""Test fixtures: a fresh app and database for every test.

The schema is built once per session by running the migrations (never
``create_all``), then copied for each test: a file copy on SQLite, a
``CREATE DATABASE … TEMPLATE`` on PostgreSQL when ITAKU_TEST_DATABASE_URL
names a server.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid

import jinja2
import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import create_app
from core.db import db
from core.models import Role

PG_URL = os.environ.get("ITAKU_TEST_DATABASE_URL")
PASSWORD = "correct-horse-battery"
DEMO_PASSWORD = "itaku-demo-2026"
USERS_MADE = "itaku_tests_users_from_template"  # app.extensions key: the users fixture's rows are there

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the real default (scrypt) is slow by design
    "DEMO_PASSWORD": DEMO_PASSWORD,
}


def _pg_execute(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) outside a transaction."""
    engine = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _share_url_builders() -> None:
    """Every test builds its own app, and werkzeug compiles two URL-builder
    functions per route from a syntax tree: about two thirds of the cost of
    ``create_app`` with some 220 routes, paid a thousand times a run. Such a
    function depends only on the route's text, parsed parts and defaults (it
    reaches the converters through the rule it is bound to), so the tests'
    apps share one per route. Production builds one app per process and
    is left alone."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    built: dict = {}

    def shared(self, append_unknown: bool = True):
        key = (self.rule, self.host or self.subdomain, tuple(self._trace), append_unknown,
               tuple(sorted((name, repr(value)) for name, value in (self.defaults or {}).items())))
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = shared


class _SharedTemplates(jinja2.BytecodeCache):
    """Compiled templates kept across the tests' apps: each app has a new Jinja
    environment, which would otherwise compile every template it renders
    again (about a third of a short test's time). The key is the template's
    name and a checksum of its source, so an edited template compiles anew."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


SHARED_TEMPLATES = _SharedTemplates()


class _Clones:
    """PostgreSQL: the tests' databases cloned from their templates one test
    ahead, and dropped behind, by one background thread per xdist worker.
    A clone or a drop costs about a tenth to a fifth of a second, a thousand
    times each a run; done here, the tests wait for neither. At most one
    spare clone per template exists; ``forget`` drops it before its
    template goes."""

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor

        self.thread = ThreadPoolExecutor(1, thread_name_prefix="itaku-test-clones")
        self.spare: dict[str, object] = {}  # template → Future of a clone's name

    def _clone(self, template: str) -> str:
        name = f"itaku_t_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def take(self, template: str) -> str:
        spare = self.spare.pop(template, None)
        name = spare.result() if spare is not None else self._clone(template)
        self.spare[template] = self.thread.submit(self._clone, template)
        return name

    def drop(self, name: str) -> None:
        self.thread.submit(_pg_execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def forget(self, template: str) -> None:
        spare = self.spare.pop(template, None)
        if spare is not None:
            self.drop(spare.result())
        self.thread.submit(lambda: None).result()  # the drops queued so far are done


CLONES = _Clones() if PG_URL else None


def pytest_configure(config):
    """Keep the developer's own settings out of the tests, and keep the
    tests' files out of the repository's instance/ folder; share the URL
    builders between the tests' apps."""
    _share_url_builders()
    for name in list(os.environ):
        if name.startswith("ITAKU_") and not name.startswith("ITAKU_TEST_"):
            del os.environ[name]
    os.environ["ITAKU_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="itaku-test-instance-")


def _migrate(url: str) -> None:
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    if PG_URL:
        name = f"itaku_tpl_{os.getpid()}"
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_execute(f'CREATE DATABASE "{name}"')
        _migrate(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
        yield ("postgresql", name)
        CLONES.forget(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "itaku.db"
        _migrate(f"sqlite:///{path}")
        yield ("sqlite", path)


def _second_template(template_db, tmp_path_factory, label: str):
    """A copy of the migrated template, to fill once per session: (copy, url)."""
    kind, template = template_db
    if kind == "sqlite":
        path = tmp_path_factory.mktemp(f"{label}-template") / "itaku.db"
        shutil.copyfile(template, path)
        return path, f"sqlite:///{path}"
    copy = f"itaku_{label}_{os.getpid()}"
    _pg_execute(f'DROP DATABASE IF EXISTS "{copy}"')
    _pg_execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
    return copy, make_url(PG_URL).set(database=copy).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def demo_template(template_db, tmp_path_factory):
    """The demo data set loaded once per session (per xdist worker) into a
    second template, with the files it stores: tests that ask for ``demo``
    start from a copy of it instead of loading it again (about half a
    second each on SQLite, more on PostgreSQL)."""
    kind, _template = template_db
    storage = tmp_path_factory.mktemp("demo-files")
    copy, url = _second_template(template_db, tmp_path_factory, "demo")
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "STORAGE_PATH": str(storage)})
    with app.app_context():
        from core.demo import load

        load(DEMO_PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield (kind, copy, storage)
    if kind == "postgresql":
        CLONES.forget(copy)
        _pg_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


@pytest.fixture(scope="session")
def users_template(template_db, tmp_path_factory):
    """The ``users`` fixture's unit and users made once per session (per
    xdist worker) into a template of their own: the ``app`` fixture of a test
    that asks for ``users`` starts from a copy of it (six users cost about
    a twentieth of a second per test)."""
    kind, _template = template_db
    copy, url = _second_template(template_db, tmp_path_factory, "users")
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        _create_users()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield (kind, copy)
    if kind == "postgresql":
        CLONES.forget(copy)
        _pg_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def filled_template(fill):
    """A session fixture for data that take seconds to build: the demo
    template copied once per session (per xdist worker), ``fill()`` run in
    it in an app context and committed. Name it ``filled_<what>`` and ask for
    it beside ``demo``: the ``app`` fixture then starts the test from a copy
    of it, files included."""

    @pytest.fixture(scope="session")
    def fixture(template_db, demo_template, tmp_path_factory, request):
        kind, demo_copy, demo_files = demo_template
        label = request.fixturename
        storage = tmp_path_factory.mktemp(f"{label}-files")
        shutil.copytree(demo_files, storage, dirs_exist_ok=True)
        if kind == "sqlite":
            copy = tmp_path_factory.mktemp(f"{label}-template") / "itaku.db"
            shutil.copyfile(demo_copy, copy)
            url = f"sqlite:///{copy}"
        else:
            copy = f"itaku_{label}_{os.getpid()}"
            _pg_execute(f'DROP DATABASE IF EXISTS "{copy}"')
            _pg_execute(f'CREATE DATABASE "{copy}" TEMPLATE "{demo_copy}"')
            url = make_url(PG_URL).set(database=copy).render_as_string(hide_password=False)
        app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "STORAGE_PATH": str(storage)})
        with app.app_context():
            fill()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        yield (kind, copy, storage)
        if kind == "postgresql":
            CLONES.forget(copy)
            _pg_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')

    return fixture


def _config_overrides(request) -> dict:
    marker = request.node.get_closest_marker("config")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def app(template_db, tmp_path, request):
    kind, template = template_db
    storage = tmp_path / "files"
    from_users_template = False
    filled = [name for name in request.fixturenames if name.startswith("filled_")]
    if filled or "demo" in request.fixturenames:
        # Start from the demo template (see demo_template), or one filled
        # from it (see filled_template), files included.
        kind, template, demo_files = request.getfixturevalue(filled[0] if filled else "demo_template")
        shutil.copytree(demo_files, storage)
    elif "users" in request.fixturenames:
        kind, template = request.getfixturevalue("users_template")
        from_users_template = True
    if kind == "sqlite":
        path = tmp_path / "itaku.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        name = CLONES.take(template)
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "STORAGE_PATH": str(storage),
                      **_config_overrides(request)})
    app.extensions[USERS_MADE] = from_users_template
    app.jinja_env.bytecode_cache = SHARED_TEMPLATES
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if kind == "postgresql":
        CLONES.drop(name)


def _create_users() -> dict[str, int]:
    from sqlalchemy import select

    from core import accounts
    from core.models import OrgUnit, User

    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "総務課")) or OrgUnit(name="総務課")
    db.session.add(unit)
    created = {}
    for role in Role:
        user = db.session.scalar(select(User).where(User.username == role.value))
        if user is None:
            user = accounts.create_user(username=role.value, display_name=f"{role.value} user",
                                        password=PASSWORD, roles=[role], unit=unit)
        else:
            user.password_hash = accounts.hash_password(PASSWORD)
            user.set_roles([role])
            db.session.flush()
        created[role.value] = user.id
    return created


@pytest.fixture
def users(app):
    """One active user per role, named after it, in 総務課; password PASSWORD.
    With the demo too, its users of those names get that password and role.
    (Usually the ``app`` fixture has started from users_template, which
    holds them already.)"""
    from sqlalchemy import select

    from core.models import User

    with app.app_context():
        if app.extensions[USERS_MADE]:
            return dict(db.session.execute(select(User.username, User.id)
                                           .where(User.username.in_([role.value for role in Role]))).all())
        created = _create_users()
        db.session.commit()
    return created


@pytest.fixture
def demo(app):
    """The demo data set (units, users, registers): the ``app`` fixture
    starts such a test from a copy of the demo template."""
    return app


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        return self.client.post("/login", data={"username": username, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


def followed(client, response):
    """A refused action's answer: a redirect (303, Post/Redirect/Get) to the
    record's page, read with a GET (where the reason is flashed)."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"])


def login_as(client, role: str | Role, password: str = PASSWORD):
    """Sign ``client`` in as the user named after ``role``; fail loudly if refused."""
    name = role.value if isinstance(role, Role) else role
    data = {"username": name, "password": password}
    if client.application.config["WTF_CSRF_ENABLED"]:
        data["csrf_token"] = csrf_token(client, "/login")
    response = client.post("/login", data=data)
    assert response.status_code == 302, f"login as {name} refused"
    return response


def api_token(app, username: str) -> str:
    """A new API token of the user ``username``; returns its secret."""
    from sqlalchemy import select

    from core import api_tokens
    from core.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        _token, secret = api_tokens.issue(user, f"{username}'s test token")
        db.session.commit()
    return secret


def csrf_token(client, path: str) -> str:
    """Read the CSRF token from a rendered form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture(autouse=True)
def _push_request_context():
    """Overrides pytest-flask's fixture of this name, which keeps one request
    context open for the whole test: Flask would then reuse its app context,
    and Flask-Login's user cached on ``g``, for every request, leaking one
    client's login into another's."""
    yield


@pytest.fixture
def client(app):
    """Overrides pytest-flask's ``client``, which opens the client in a
    ``with`` block: that keeps each request's context (and ``g``) alive until
    the next request, so a second client in the same test would run as the
    first one's user."""
    return app.test_client()


def pytest_sessionfinish(session, exitstatus):
    """CI installs every part the suite needs, so there nothing may be
    skipped: a skip there means a missing install step."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") == "true" and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every part must be installed in CI", red=True)
        session.exitstatus = 1


def read_pdf(response) -> tuple[int, str]:
    """(pages, text) of a PDF response, checking it is one."""
    import io

    from pypdf import PdfReader

    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def served_app(app):
    """gunicorn (4 workers, CSRF on) serving the ``app`` fixture's database,
    for tests of races: yields a tests.served.Served (``.url``, ``.login``,
    ``.csrf``); stopped by PID at the end.  Create data through ``app``
    (e.g. the ``users`` fixture) before or after: both use one database."""
    from tests.served import serve, settings_of

    with app.app_context():
        db.engine.dispose()  # SQLite: nothing of ours stays open on the file
    with serve(settings_of(app)) as served:
        yield served


@pytest.fixture
def buyer(client, users):
    """The test client signed in as the procurement officer."""
    login_as(client, "procurement")
    return client
