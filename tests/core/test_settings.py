"""Settings are typed and checked at start-up: a wrong value stops the app with one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app

from ..conftest import BASE_CONFIG, PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Sets ITAKU_* variables for one create_app() in its own instance folder."""
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path / "instance"))

    def setenv(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"ITAKU_{name}", value)
    return setenv


def start(**config):
    return create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "k", **config}).config


def refused(**config) -> str:
    from core.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        start(**config)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("word, value", [
    ("1", True), ("0", False), ("true", True), ("False", False), ("yes", True), ("no", False),
    ("on", True), ("OFF", False), (" true ", True),
])
def test_booleans_accept_the_usual_words(env, word, value):
    env(SESSION_COOKIE_SECURE=word, MAIL_STARTTLS=word, PUBLIC_ACCOUNT_LIST=word)
    config = start()
    assert config["SESSION_COOKIE_SECURE"] is value
    assert config["MAIL_STARTTLS"] is value and config["PUBLIC_ACCOUNT_LIST"] is value


@pytest.mark.parametrize("word", ["2", "enabled", "", "[]"])
def test_a_boolean_refuses_other_words(env, word):
    env(SESSION_COOKIE_SECURE=word)
    assert refused() == (f"ITAKU_SESSION_COOKIE_SECURE: must be one of 1/0, true/false, yes/no, on/off "
                         f"(got {word!r})")


def test_numbers_are_numbers_within_their_range(env):
    env(LOGIN_MAX_FAILURES="7", MAIL_PORT="2525", IDLE_TIMEOUT_MINUTES=" 10 ")
    config = start()
    assert (config["LOGIN_MAX_FAILURES"], config["MAIL_PORT"], config["IDLE_TIMEOUT_MINUTES"]) == (7, 2525, 10)


@pytest.mark.parametrize("name, word, accepts", [
    ("LOGIN_MAX_FAILURES", "abc", "a whole number from 1 to 100"),
    ("LOGIN_MAX_FAILURES", "0", "a whole number from 1 to 100"),
    ("LOGIN_MAX_FAILURES", "101", "a whole number from 1 to 100"),
    ("LOGIN_MAX_FAILURES", "5.5", "a whole number from 1 to 100"),
    ("LOGIN_MAX_FAILURES", "²", "a whole number from 1 to 100"),
    ("MAIL_PORT", "70000", "a whole number from 1 to 65535"),
    ("IDLE_TIMEOUT_MINUTES", "-5", "a whole number from 1 to 1440"),
])
def test_a_number_out_of_range_stops_the_start(env, name, word, accepts):
    env(**{name: word})
    assert refused() == f"ITAKU_{name}: must be {accepts} (got {word!r})"


@pytest.mark.parametrize("url", ["sqlite:///itaku.db", "sqlite://", "postgresql+psycopg://itaku:pw@db.example/itaku"])
def test_database_urls(env, url):
    env(DATABASE_URL=url)
    assert create_app({"SECRET_KEY": "k"}).config["SQLALCHEMY_DATABASE_URI"] == url


@pytest.mark.parametrize("url", ["itaku.db", "mysql://root:secret@db/itaku", "postgres//oops"])
def test_a_wrong_database_url_stops_the_start_without_showing_it(env, url):
    env(DATABASE_URL=url)
    from core.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        create_app({"SECRET_KEY": "k"})
    assert str(caught.value).startswith("ITAKU_DATABASE_URL: must be a database URL")
    assert "secret" not in str(caught.value)  # it may carry a password


@pytest.mark.parametrize("url, good", [
    ("https://itaku.example.lg.jp", True), ("http://127.0.0.1:8000/itaku", True),
    ("itaku.example.lg.jp", False), ("ftp://itaku.example.lg.jp", False), ("https://", False),
])
def test_the_base_url(env, url, good):
    env(BASE_URL=url)
    if good:
        assert start()["BASE_URL"] == url
    else:
        assert refused().startswith("ITAKU_BASE_URL: must be an http:// or https:// address")


def test_the_storage_path_must_be_an_absolute_folder(env, tmp_path):
    env(STORAGE_PATH=str(tmp_path / "files"))
    assert start()["STORAGE_PATH"] == str(tmp_path / "files")
    env(STORAGE_PATH="files")
    assert refused() == "ITAKU_STORAGE_PATH: must be an absolute path to a folder (got 'files')"
    (tmp_path / "a-file").write_text("x")
    env(STORAGE_PATH=str(tmp_path / "a-file"))
    assert refused().startswith("ITAKU_STORAGE_PATH: must be an absolute path to a folder, not a file")


def test_the_instance_path_must_be_a_folder(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path / "a-file"))
    assert refused().startswith("ITAKU_INSTANCE_PATH: must be a folder that exists or can be made")


@pytest.mark.parametrize("name, word, canonical", [
    ("SESSION_COOKIE_SAMESITE", "strict", "Strict"), ("SESSION_COOKIE_SAMESITE", "None", "None"),
    ("BABEL_DEFAULT_LOCALE", "en", "en"), ("PASSWORD_HASH_METHOD", "pbkdf2:sha256:600000", "pbkdf2:sha256:600000"),
])
def test_choices(env, name, word, canonical):
    env(**{name: word})
    assert start()[name] == canonical


@pytest.mark.parametrize("name, word, accepts", [
    ("SESSION_COOKIE_SAMESITE", "Loose", "one of Lax, Strict, None"),
    ("BABEL_DEFAULT_LOCALE", "de", "one of ja, en"),
    ("PASSWORD_HASH_METHOD", "md5", "scrypt, scrypt:N:R:P, pbkdf2 or pbkdf2:sha256:ITERATIONS"),
])
def test_a_wrong_choice_stops_the_start(env, name, word, accepts):
    env(**{name: word})
    assert refused() == f"ITAKU_{name}: must be {accepts} (got {word!r})"


def test_a_misspelt_variable_is_refused_with_the_likely_name(env):
    env(SESION_COOKIE_SECURE="1")
    assert refused() == ("ITAKU_SESION_COOKIE_SECURE: not a setting of Itaku (did you mean "
                         "ITAKU_SESSION_COOKIE_SECURE? the settings are listed in the README's Configuration section)")


def test_the_tests_own_variables_are_not_settings(env):
    env(TEST_SOMETHING="x")
    assert start()["SESSION_COOKIE_SECURE"] is False


def test_the_secret_key_is_never_shown(env):
    env(SECRET_KEY="\x01hidden")
    assert refused() == "ITAKU_SECRET_KEY: must be text without control characters"


def test_a_secret_key_may_be_bytes_in_the_instance_config(env, tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("SECRET_KEY = b'\\x00\\xffkey'\n")
    assert create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"] == b"\x00\xffkey"


def test_instance_config_is_checked_and_named(env, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("LOGIN_MAX_FAILURES = 'many'\n")
    assert refused() == "LOGIN_MAX_FAILURES in instance/config.py: must be a whole number from 1 to 100 (got 'many')"
    (instance / "config.py").write_text("LOGIN_MAX_FAILURES = 9\nLOGIN_LOCK_MINUTES = 20\n")
    env(LOGIN_LOCK_MINUTES="30")  # the environment wins over the file, the test dict over both
    config = start(SESSION_COOKIE_SAMESITE="Strict")
    assert (config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"], config["SESSION_COOKIE_SAMESITE"]) == \
        (9, 30, "Strict")


def test_the_test_dict_is_checked_too():
    assert refused(LOGIN_MAX_FAILURES=0) == "LOGIN_MAX_FAILURES: must be a whole number from 1 to 100 (got 0)"


def _sign_in_cookie(env_value, monkeypatch, tmp_path) -> str:
    """The Set-Cookie header of a real sign-in with ITAKU_SESSION_COOKIE_SECURE=env_value."""
    import shutil

    from core import accounts
    from core.db import db
    from core.models import Role

    from ..conftest import _migrate

    template = tmp_path / "template.db"
    if not template.exists():
        _migrate(f"sqlite:///{template}")
    database = tmp_path / f"itaku-{env_value}.db"
    shutil.copyfile(template, database)
    monkeypatch.setenv("ITAKU_SESSION_COOKIE_SECURE", env_value)
    app = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        accounts.create_user(username="admin", display_name="admin", password=PASSWORD, roles=[Role.ADMIN])
        db.session.commit()
    response = app.test_client().post("/login", data={"username": "admin", "password": PASSWORD})
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 302
    return response.headers["Set-Cookie"]


def test_secure_0_in_the_environment_signs_in_over_http(monkeypatch, tmp_path):
    """ITAKU_SESSION_COOKIE_SECURE=0, the documented default written out, once sent `Secure=0`,
    which browsers read as Secure: sign-in over plain http silently failed."""
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path / "instance"))
    cookie = _sign_in_cookie("0", monkeypatch, tmp_path)
    assert "session=" in cookie and "secure" not in cookie.lower()
    cookie = _sign_in_cookie("1", monkeypatch, tmp_path)
    assert "; Secure" in cookie and "Secure=" not in cookie


def _run(args, **env) -> subprocess.CompletedProcess:
    import os

    environ = {key: value for key, value in os.environ.items() if not key.startswith("ITAKU_")}
    return subprocess.run(args, cwd=ROOT, env={**environ, **env}, capture_output=True, text=True, timeout=60)


def test_flask_commands_show_one_line(tmp_path):
    done = _run([sys.executable, "-m", "flask", "--app", "app", "audit-verify"],
                ITAKU_INSTANCE_PATH=str(tmp_path), ITAKU_LOGIN_MAX_FAILURES="abc")
    assert done.returncode != 0
    assert done.stderr.strip() == "Error: ITAKU_LOGIN_MAX_FAILURES: must be a whole number from 1 to 100 (got 'abc')"


def test_gunicorn_shows_one_line_and_stops(tmp_path):
    done = _run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--control-socket",
                 str(tmp_path / "g.ctl"), "app:create_app()"],
                ITAKU_INSTANCE_PATH=str(tmp_path), ITAKU_SESSION_COOKIE_SECURE="maybe")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert "ITAKU_SESSION_COOKIE_SECURE: must be one of 1/0, true/false, yes/no, on/off (got 'maybe')" in lines
    assert "Traceback" not in done.stderr


def test_the_readme_lists_every_setting():
    from core.settings import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration"):readme.index("## Security in short")]
    assert [name for name in SETTINGS if f"`ITAKU_{name}`" not in section] == []


@pytest.mark.parametrize("word", ["0", "一年", "3651", "365.5"])
def test_a_wrong_selection_validity_stops_the_start(env, word):
    env(SELECTION_VALID_DAYS=word)
    assert refused() == f"ITAKU_SELECTION_VALID_DAYS: must be a whole number of days from 1 to 3650 (got {word!r})"


def test_the_selection_validity_is_a_number_of_days(env):
    assert start()["SELECTION_VALID_DAYS"] == 365
    env(SELECTION_VALID_DAYS="90")
    assert start()["SELECTION_VALID_DAYS"] == 90


def test_documents_print_dates_in_wareki_unless_the_setting_says_iso(env):
    """ITAKU_DOCUMENT_DATES (issue 18): wareki by default, iso as an option, anything else stops the start."""
    assert start()["DOCUMENT_DATES"] == "wareki"
    env(DOCUMENT_DATES="ISO")
    assert start()["DOCUMENT_DATES"] == "iso"
    env(DOCUMENT_DATES="seireki")
    assert refused() == "ITAKU_DOCUMENT_DATES: must be one of wareki, iso (got 'seireki')"


@pytest.mark.parametrize(("name", "word", "accepts"), [
    ("PPC_PRELIMINARY_DAYS", "0", "of days from 1 to 10"), ("PPC_PRELIMINARY_DAYS", "11", "of days from 1 to 10"),
    ("PPC_FINAL_DAYS", "三十", "of days from 1 to 365"), ("PPC_FINAL_DAYS_WRONGFUL", "0", "of days from 1 to 365"),
    ("CONTRACTOR_REPORT_HOURS", "24.5", "of hours from 1 to 720")])
def test_a_wrong_incident_deadline_stops_the_start(env, name, word, accepts):
    env(**{name: word})
    assert refused() == f"ITAKU_{name}: must be a whole number {accepts} (got {word!r})"


def test_the_incident_deadlines_default_to_the_appi_guidance(env):
    started = start()
    assert (started["PPC_PRELIMINARY_DAYS"], started["PPC_FINAL_DAYS"], started["PPC_FINAL_DAYS_WRONGFUL"],
            started["CONTRACTOR_REPORT_HOURS"]) == (5, 30, 60, 24)
    env(PPC_PRELIMINARY_DAYS="3")
    assert start()["PPC_PRELIMINARY_DAYS"] == 3
