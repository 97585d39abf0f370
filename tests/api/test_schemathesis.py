"""The API against its own OpenAPI document, in process, on the demo data:
schemathesis generates requests for every operation — ones the document
allows and ones it does not — and checks that none is a server error and
that every answer (its status, content type and body) is one the document
declares."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select

from core import accounts, registers
from core.db import db
from core.models import OrgUnit, Role
from tests.conftest import api_token

# Examples per operation: the API has some 60 operations, so this decides the
# test's time (generating the cases costs more than answering them). Raise it
# for a deeper run; the cases are derandomised, so a run repeats.
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 10}
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance"]


@pytest.fixture
def api_schema(demo):
    """The document as served, calling the demo app with the token of a
    user who has every role."""
    with demo.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "総務課"))
        accounts.create_user(username="everyone", display_name="全権 一郎", password="correct-horse-battery",
                             roles=list(Role), unit=unit)
        db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo)
    schema.config.update(headers={"Authorization": f"Bearer {api_token(demo, 'everyone')}"})
    schema.config.generation.update(with_security_parameters=False)  # the token above, never a made-up one
    schema.config.checks.update(included_check_names=CHECKS)
    return schema


def _known(app) -> dict[str, tuple[list[int], dict[str, list[str]]]]:
    """For each register: the ids of a few records, and the values they
    show in each reference field — what a generator cannot guess but a
    request must name to get past "not found" and "not registered"."""
    known = {}
    with app.app_context():
        for register in registers.all_registers():
            records = db.session.scalars(register.query().limit(5)).all()
            refs = {f.key: sorted({f.json(r) for r in records} - {None})
                    for f in register.writable_fields() if f.kind == "ref" and not f.many}
            known[register.name] = ([r.id for r in records], {key: values for key, values in refs.items() if values})
    return known


def _strategy(operation, mode: GenerationMode, known):
    """The operation's generated cases; valid ones also aim at existing
    records and, half of the time, name existing references."""
    strategy = operation.as_strategy(generation_mode=mode)
    ids, refs = known.get(operation.path.split("/")[3], ([], {}))
    if mode is not GenerationMode.POSITIVE:
        return strategy
    if "{record_id}" in operation.path:
        strategy = st.one_of(strategy, *[operation.as_strategy(path_parameters={"record_id": i}) for i in ids])
    if refs:
        def name_existing(drawn):
            case, values, use = drawn
            if use and isinstance(case.body, dict):
                case.body.update({key: value for key, value in values.items() if key in case.body})
            return case

        strategy = st.tuples(strategy, st.fixed_dictionaries({key: st.sampled_from(values)
                                                              for key, values in refs.items()}),
                             st.booleans()).map(name_existing)
    return strategy


# schemathesis's own pytest integration (schema.parametrize with a fixture)
# does not run under pytest 9, so each operation's strategy runs in a subtest.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(api_schema, demo, mode, subtests):
    known = _known(demo)
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not (operation.path_parameters or operation.query
                                                     or operation.headers or operation.body):
            continue  # nothing to break: the dashboard, the document
        with subtests.test(operation.label):

            @given(case=_strategy(operation, mode, known))
            @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def answers_as_documented(case):
                case.call_and_validate()

            answers_as_documented()
