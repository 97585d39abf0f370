"""Messages that carry values never carry markup (issue 15 §1).

flask-babel's lazy strings have ``__html__``: Jinja inserts them as they are,
so a value formatted into ``_l("… %(name)s", name=…)`` reaches the page
unescaped.  The rule (core/i18n.py): ``_l`` only for static text, values go
through ``_``/gettext at the time of use, which gives a plain ``str`` that
Jinja escapes.  These tests keep that rule:
- a scan of the source refuses a lazy string with parameters, a ``Markup``
  built from anything but a constant, and ``|safe`` in a template;
- every message builder that formats a user's value renders it as text.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string
from markupsafe import escape
from wtforms.validators import ValidationError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "vendors", "contracts", "cloud", "social")
LAZY = {"_l", "lazy_gettext", "lazy_ngettext", "lazy_pgettext", "LazyString"}
PAYLOADS = ("<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>")


def _sources():
    yield ROOT / "app.py"
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _lazy_with_values(call: ast.Call) -> bool:
    """A lazy string whose text is not one constant, or that takes values."""
    name = _called_name(call)
    if name not in LAZY:
        return False
    if name == "LazyString" or call.keywords:
        return True
    texts = call.args[:2] if name in ("lazy_ngettext", "lazy_pgettext") else call.args[:1]
    extra = len(call.args) - len(texts) - (1 if name == "lazy_ngettext" else 0)  # ngettext's count is a number
    return extra > 0 or not all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in texts)


def _markup_of_a_value(call: ast.Call) -> bool:
    return _called_name(call) == "Markup" and not (
        len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and not call.keywords)


def test_no_lazy_string_takes_values_and_no_markup_is_built_from_data():
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and (_lazy_with_values(node) or _markup_of_a_value(node)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:120]}")
    assert not found, ("lazy strings must be static and Markup only a constant; build messages with values "
                       "with _()/gettext at the time of use (core/i18n.py):\n" + "\n".join(found))


def test_no_template_marks_text_as_safe():
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in sorted((ROOT / "templates").rglob("*.html"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"\|\s*safe\b|autoescape\s+false|\bMarkup\b", line)]
    assert not found, "templates must not switch escaping off:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for():
    """The guard above cannot pass by looking at nothing."""
    bad = ast.parse('_l("x %(n)s", n=name)\nlazy_gettext(text)\nMarkup(value)\n_l("ok")\nMarkup("<br>")')
    calls = [node for node in ast.walk(bad) if isinstance(node, ast.Call)]
    assert [_lazy_with_values(c) or _markup_of_a_value(c) for c in calls] == [True, True, True, False, False]
    assert sum(1 for _ in _sources()) > 40


# --- every builder of a message with a user's value --------------------------------

def _blockers(payload):
    from cloud import rules
    from cloud.models import Agreement

    service = SimpleNamespace(
        administrator_id=1, ceiling=SimpleNamespace(rank=1), agreement=Agreement.CONTRACT, contract_id=1,
        current_rules=object(),
        information=[SimpleNamespace(name=payload, classification=SimpleNamespace(rank=3))])
    return rules.blockers(service)


def _raised(function, *args):
    try:
        function(*args)
    except (ValueError, ValidationError) as error:
        return [error.args[0]]
    raise AssertionError(f"{function.__name__} accepted a hostile value")


def _enum_cell(payload):
    from core.registers import Field
    from social.models import Platform

    return _raised(Field("platform", "サービス", lambda r: None, kind="enum", enum=Platform).form_value, payload)


def _ref_cell(payload):
    from core.registers import Field

    return _raised(Field("unit", "組織", lambda r: None, kind="ref", ref=lambda text: None).form_value, payload)


def _forbidden_word(payload):
    from social.forms import patterns_compile

    # A back-reference: valid for Python, refused by the linear-time engine.
    return _raised(patterns_compile, None, SimpleNamespace(data=f"/({payload})\\1/"))


BUILDERS = {"cloud blockers": _blockers, "import enum cell": _enum_cell, "import reference cell": _ref_cell,
            "forbidden-word pattern": _forbidden_word}


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_message_with_a_hostile_value_renders_it_as_text(app, builder, payload, locale):
    with app.test_request_context(), app.app_context():
        from flask_babel import force_locale

        with force_locale(locale):
            messages = builder(payload)
            html = render_template_string("{% for m in messages %}<p>{{ m }}</p>{% endfor %}", messages=messages)
    assert messages and all(type(message) is str for message in messages), messages
    assert payload not in html
    assert str(escape(payload)) in html


# --- the same, through the pages that show them -------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_dashboard_names_an_account_with_an_open_incident_as_text(app, users, payload):
    from core.db import db
    from tests import factories
    from tests.conftest import login_as

    with app.app_context():
        factories.incident(factories.social_account(payload))
        db.session.commit()
    client = app.test_client()
    login_as(client, "admin")
    html = client.get("/").get_data(as_text=True)
    assert payload not in html
    assert str(escape(payload)) in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_reason_of_a_re_approval_names_the_information_as_text(app, users, payload):
    from cloud.models import ServiceStatus
    from core.db import db
    from tests import factories
    from tests.conftest import login_as

    with app.app_context():
        service = factories.cloud_service(status=ServiceStatus.APPROVED)
        db.session.commit()
        sid, level = service.id, factories.level("C1").id
    client = app.test_client()
    login_as(client, "procurement")
    response = client.post(f"/cloud/{sid}/information", data={
        "info_name": payload, "classification_id": str(level), "state": "planned", "note": ""},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "取り扱う情報の追加: " + str(escape(payload)) in html  # the pending request's reason
    assert payload not in html
