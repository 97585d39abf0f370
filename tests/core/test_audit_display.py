"""The audit trail as people read it (issue 20): labels, names, enum labels,
Japan time, one entry per save; the stored trail and its hashes unchanged."""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_login import login_user
from sqlalchemy import select

from contracts import services as contract_services
from contracts.models import Clause, ClauseState, Contract
from core import audit
from core.audit_display import readable, readable_text
from core.db import db
from core.models import AuditEntry, User
from tests import factories
from tests.conftest import login_as


def _clause(code: str) -> Clause:
    return db.session.scalar(select(Clause).where(Clause.code == code))


def _history(contract: Contract):
    return readable(audit.history(contract, *contract.clauses))


def _save_matrix(contract: Contract, changes: dict[str, tuple[ClauseState, str | None, str | None]]) -> None:
    rows = {row.clause_id: (row.state, row.article, row.reason) for row in contract.clauses}
    rows.update({_clause(code).id: value for code, value in changes.items()})
    contract_services.save_matrix(contract, rows, user=factories.clerk())
    db.session.commit()


def test_a_matrix_save_is_one_entry_with_its_clauses_grouped(app, users):
    with app.test_request_context():
        login_user(db.session.get(User, users["auditor"]))
        contract = factories.contract(classification="C2", left_out=("C08",))
        db.session.commit()
        _save_matrix(contract, {"C08": (ClauseState.INCLUDED, "第12条", None),
                                "C20": (ClauseState.INCLUDED, "第30条", None)})
        [latest, *_older] = _history(contract)
        assert str(latest.action) == "条項マトリクスを更新"
        assert str(latest.kind) == "契約" and latest.name == f"{contract.number} {contract.title}"
        assert latest.url == f"/contracts/{contract.id}"  # the auditor may open it
        names = {part.name for part in latest.parts}
        assert f"C08 {_clause('C08').label_ja}" in names and f"C20 {_clause('C20').label_ja}" in names
        text = readable_text(latest)
        assert f"C08 {_clause('C08').label_ja}: 規定なし → 規定あり（第12条）" in text  # as the issue asks
        assert "not_included" not in text and "clause_id" not in text and "included" not in text


def test_a_classification_change_shows_the_level_names_and_enum_labels(app, users):
    with app.test_request_context():
        contract = factories.contract(classification="C2")
        db.session.commit()
        assert contract.classification_id  # the form reads the record before it changes it
        contract.classification_id = factories.level("C3B").id
        contract.handles_my_number = True
        db.session.commit()
        [latest, *_older] = _history(contract)
        changes = {str(change.label): (change.old, change.new) for part in latest.parts for change in part.changes}
        assert changes["機密性"] == ("自治体機密性2", "自治体機密性3B")
        assert changes["個人番号"] == ("いいえ", "はい")
        created = _history(contract)[-1]
        assert str(created.action) == "登録"
        values = {str(change.label): change.value for part in created.parts for change in part.changes}
        assert values["状態"] == "起案" and values["種別"] == "業務委託"  # enum labels, not draft / outsourcing


def test_times_inside_changes_are_shown_in_japan_time(app, users):
    with app.test_request_context():
        vendor = factories.vendor("株式会社時刻")
        db.session.commit()
        audit.log("update", vendor, changes={"updated_at": ["2026-12-03T01:00:00", "2026-12-03T15:30:00"],
                                             "notes": ["a", "b"]})
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        [group] = readable([entry])
        [part] = group.parts
        assert [(str(c.label), c.old, c.new) for c in part.changes] == [("備考", "a", "b")]  # bookkeeping hidden
        user = db.session.get(User, users["admin"])
        audit.log("password_reset", user, changes={"password_changed_at": [None, "2026-12-03T15:30:00"]})
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        [group] = readable([entry])
        assert "2026年12月4日 00:30" in readable_text(group)  # 15:30 UTC is 00:30 the next day in Japan


def test_english_labels_under_the_english_locale(app, users):
    with app.test_request_context():
        contract = factories.contract(classification="C2", left_out=("C08",))
        db.session.commit()
        _save_matrix(contract, {"C08": (ClauseState.INCLUDED, "第12条", None)})
        with force_locale("en"):
            [latest, *_older] = _history(contract)
            text = readable_text(latest)
            assert str(latest.action) == "Clause matrix updated"
            assert f"C08 {_clause('C08').label_en}" in text
            assert "Not included → Included" in text, text


def test_a_deleted_referenced_record_falls_back_to_its_stored_id(app, users):
    with app.test_request_context():
        vendor = factories.vendor("株式会社消える", selected=False)
        db.session.commit()
        audit.log("update", vendor, changes={"unit_id": [None, 98765]})
        db.session.commit()
        vendor_id = vendor.id
        db.session.delete(vendor)
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "vendors", AuditEntry.object_id == str(vendor_id))
            .order_by(AuditEntry.seq.desc())).all()
        groups = readable(entries)
        text = " ".join(readable_text(group) for group in groups)
        assert f"#{vendor_id}" in text and "#98765" in text
        assert all(group.url is None for group in groups)  # nothing to open


def test_a_redacted_value_stays_redacted(app, users):
    with app.test_request_context():
        user = factories.user("redacted-user")
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "users", AuditEntry.object_id == str(user.id))).all()
        text = " ".join(readable_text(group) for group in readable(entries))
        assert audit.REDACTED in text and "pbkdf2" not in text


def test_the_pages_show_the_readable_history_escaped_and_the_chain_still_verifies(app, users, client):
    with app.app_context():
        contract = factories.contract(classification="C2", left_out=("C08",),
                                      title="<script>alert(1)</script>委託")
        db.session.commit()
        contract_id = contract.id
    login_as(client, "auditor")
    html = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    history = html[html.index('id="history-heading"'):]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in history
    assert "classification_id" not in history and "not_included" not in history
    assert "自治体機密性2" in history
    log = client.get("/audit/?object_type=contracts").get_data(as_text=True)
    assert f'href="/contracts/{contract_id}"' in log and f"契約 #{contract_id}" not in log
    assert "異常はありません" in client.get("/audit/verify").get_data(as_text=True)


def test_no_link_for_a_reader_who_may_not_open_the_record(app, users):
    with app.test_request_context():
        login_user(db.session.get(User, users["social"]))  # SNS staff do not read contracts
        contract = factories.contract(classification="C2")
        db.session.commit()
        [created] = _history(contract)[-1:]
        assert created.name == f"{contract.number} {contract.title}" and created.url is None


def test_the_times_of_entries_are_stored_utc(app, users):
    """Only the display changes: the stored entry keeps its UTC time and raw values."""
    with app.app_context():
        contract = factories.contract(classification="C2")
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "contracts")).first()
        assert entry.changes["status"] == "draft"
        assert abs(entry.at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)
        assert audit.verify_chain(db.session.connection()).ok
        assert contract.id


def test_the_audit_log_shows_a_matrix_save_as_one_row(app, users, client):
    """On /audit/ the clause rows' updates name no contract: their parent is looked up (in bulk)."""
    with app.test_request_context():
        contract = factories.contract(classification="C2", left_out=("C08", "C11"))
        db.session.commit()
        _save_matrix(contract, {"C08": (ClauseState.INCLUDED, "第12条", None),
                                "C11": (ClauseState.INCLUDED, "第15条", None)})
        contract_id, label = contract.id, f"{contract.number} {contract.title}"
    login_as(client, "auditor")
    rows = client.get("/audit/").get_data(as_text=True).split("<tbody>")[1].split("</tr>")
    assert "ログイン" in rows[0] and "<ul" not in rows[0]  # the sign-in: nothing changed, no empty list
    assert "条項マトリクスを更新" in rows[1] and f'<a href="/contracts/{contract_id}">{label}</a>' in rows[1]
    assert "C08" in rows[1] and "C11" in rows[1] and "第15条" in rows[1]
    assert "条項マトリクスを更新" not in "".join(rows[2:])


def test_a_subcontractor_request_belongs_to_its_contract(app, users):
    """Two levels up: the request (an approval about the subcontractor) and the
    subcontractor are both the contract's, named by the contract."""
    from contracts.models import Subcontracting

    with app.test_request_context():
        contract = factories.contract(classification="C2", subcontracting=Subcontracting.APPROVAL)
        db.session.commit()
        contract_services.request_subcontractor(contract, name="株式会社再委託", scope="保守",
                                                document=factories.stored_file(), user=factories.clerk())
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type.in_(
            ["approvals", "subcontractors"])).order_by(AuditEntry.seq.desc())).all()
        [group] = readable(entries)
        assert group.name == f"{contract.number} {contract.title}" and str(group.kind) == "契約"
        text = readable_text(group)
        assert "再委託 株式会社再委託" in text or "株式会社再委託" in text
        assert "subject" not in text and "#" not in text


def test_the_export_keeps_the_stored_columns_and_adds_a_readable_one(app, users, client):
    import csv
    import io

    with app.test_request_context():
        contract = factories.contract(classification="C2", left_out=("C08",))
        db.session.commit()
        _save_matrix(contract, {"C08": (ClauseState.INCLUDED, "第12条", None)})
        label = _clause("C08").label_ja
    login_as(client, "auditor")
    response = client.get("/audit/export.csv?object_type=contract_clauses&action=update")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    response.close()
    header, [row] = rows[0], rows[1:]
    assert header[:3] == ["連番", "日時", "利用者"] and header[-1] == "内容（読みやすい形）"
    stored = dict(zip(header, row, strict=True))
    assert '"not_included"' in stored["変更内容"]  # the stored values, as the hash covers them
    assert f"C08 {label}" in stored["内容（読みやすい形）"] and "規定なし → 規定あり" in stored["内容（読みやすい形）"]
    xlsx = client.get("/audit/export.xlsx?object_type=contract_clauses")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    xlsx.close()


def test_every_column_of_every_audited_table_reads_as_a_label(app):
    """A history never shows a raw column name (``signed_on``, ``occurred_at``):
    each column a change can touch has a label — the form's, the table's
    description (AuditRecord), the column's ``info`` or a common one."""
    from core import audit_display
    from core.models import Audited

    raw = {}
    with app.test_request_context():
        for mapper in db.Model.registry.mappers:
            if not issubclass(mapper.class_, Audited):
                continue
            table = mapper.class_.__tablename__
            hidden = audit_display._hidden(table)
            for key, column in audit_display._columns(table).items():
                if key != "id" and key not in hidden and str(column.label) == key:
                    raw.setdefault(table, []).append(key)
    assert not raw, f"columns shown by their raw names: {raw}"


def test_the_demo_trail_reads_without_codes(app, demo):
    """Every action and every kind of record in the demo's trail has a name
    (no ``approve_conditional`` or ``contract_clauses`` on the page), in
    Japanese and in English."""
    from core.audit_display import action_label, object_label

    with app.test_request_context():
        actions = set(db.session.scalars(select(AuditEntry.action).distinct()))
        kinds = set(db.session.scalars(select(AuditEntry.object_type).distinct())) - {None}
        for locale in ("ja", "en"):
            with force_locale(locale):
                assert not {a for a in actions if str(action_label(a)) == a}, locale
                assert not {k for k in kinds if str(object_label(k)) == k}, locale


def test_the_exports_readable_column_reads_each_entry_as_the_history_does(demo):
    """The export writes each entry's line straight from the reader (issue 21:
    a quarter of a million entries): every line is still the text the history
    makes of that entry read on its own, for the whole demo trail."""
    import csv
    import io

    from tests.conftest import DEMO_PASSWORD

    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    response = client.get("/audit/export.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    response.close()
    with demo.test_request_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).all()
        expected = [readable_text(group) for group in readable(entries, grouped=False, text=True)]
    assert len(rows) - 1 == len(entries) > 500  # more than one chunk
    assert [row[0] for row in rows[1:]] == [str(entry.seq) for entry in entries]
    assert [row[-1] for row in rows[1:]] == expected
    assert any(": " in line for line in expected) and any("→" in line for line in expected)
