"""one incident register (issue 19): incidents of contracts, cloud services, SNS
accounts and the body, their notifications, timeline, evidence, and the
response checklist per kind (administrators edit it); the SNS incidents move
in with their ids, checklists and timelines, and the old tables go

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

KINDS = ('leak', 'unauthorised', 'malware', 'outage', 'breach', 'impersonation', 'takeover', 'wrong_post')
JST = dt.timezone(dt.timedelta(hours=9))

# The response checklist each kind starts with (DOMAIN.md §4.6 for SNS, whose
# codes and texts are those of the SNS incidents before; C12 lets the body publish).
GENERAL = (
    ("IR-01", "被害の拡大を止めた（封じ込め）", "Contained it: stopped the damage from spreading"),
    ("IR-02", "証拠を保全した（ログ・媒体・記録）", "Preserved the evidence (logs, media, records)"),
    ("IR-03", "統括情報セキュリティ責任者に報告した（重大・機密性3はCISOにも）",
     "Reported to the security lead (and the CISO when severe or class 3)"),
    ("IR-04", "影響を受けた本人に通知した", "Informed the people affected"),
    ("IR-05", "公表の要否を判断し、必要なら公表した（C12）", "Decided whether to publish, and published if needed (C12)"),
    ("IR-06", "復旧し、通常の業務に戻した", "Recovered and returned to normal operation"),
)
SOCIAL = (
    ("INC-01", "責任者と情報セキュリティの担当に報告した", "Reported to the responsible person and the security contact"),
    ("INC-02", "サービス事業者に報告し、回復・削除を依頼した", "Reported to the platform and asked for recovery or removal"),
    ("INC-03", "パスワード等を再設定し、すべてのセッションを終了した", "Reset the credentials and ended all sessions"),
    ("INC-04", "連携アプリの許可を見直し、不審なものを解除した", "Reviewed connected apps and revoked suspicious ones"),
    ("INC-05", "公式サイトや他の公式アカウントで住民に周知した", "Told the public on the website and other official accounts"),
    ("INC-06", "緊急の情報（災害・避難など）を公式サイトにも掲載した",
     "Put urgent notices (disasters, evacuation) on the website too"),
    ("INC-07", "再発防止策（二要素認証・保持者の見直しなど）を決めた",
     "Decided how to prevent a recurrence (2FA, credential holders…)"),
)
CHECKLISTS = {kind: SOCIAL if kind in ('impersonation', 'takeover', 'wrong_post') else GENERAL for kind in KINDS}
# The SNS incidents' kinds: takeover and impersonation were the "severe" ones.
SEVERITY = {'impersonation': 'severe', 'takeover': 'severe', 'wrong_post': 'minor', 'outage': 'minor'}
KIND_JA = {'impersonation': 'なりすまし', 'takeover': '乗っ取り', 'wrong_post': '誤投稿', 'outage': 'サービス停止・障害'}


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _midnight_utc(day):
    """A date of the SNS register (JST) as the UTC time of its start."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _fiscal_year(day):
    return day.year if day.month >= 4 else day.year - 1


def upgrade():
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', _enum('incidentkind', KINDS), nullable=False),
    sa.Column('severity', _enum('severity', ('severe', 'moderate', 'minor')), nullable=False),
    sa.Column('status', _enum('incidentstatus', ('received', 'responding', 'preventing', 'closed')), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('subject_type', sa.String(length=30), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=True),
    sa.Column('contractor_reported_at', sa.DateTime(), nullable=True),
    sa.Column('learned_at', sa.DateTime(), nullable=False),
    sa.Column('contained_at', sa.DateTime(), nullable=True),
    sa.Column('reporter', sa.String(length=200), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('information', sa.Text(), nullable=True),
    sa.Column('classification_id', sa.Integer(), nullable=True),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('my_number', sa.Boolean(), nullable=False),
    sa.Column('people_affected', sa.Integer(), nullable=True),
    sa.Column('wrongful_intent', sa.Boolean(), nullable=False),
    sa.Column('ppc_required', sa.Boolean(), nullable=True),
    sa.Column('ppc_preliminary_on', sa.Date(), nullable=True),
    sa.Column('ppc_final_on', sa.Date(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('prevention', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('legacy_object', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['classification_id'], ['classification_levels.id'], name=op.f('fk_incidents_classification_id_classification_levels')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_incidents_closed_by_id_users')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_incidents_handler_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_incidents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_incidents_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('number', name='uq_incidents_number')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_personal_data'), ['personal_data'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)
        batch_op.create_index('ix_incidents_status_severity', ['status', 'severity'], unique=False)
        batch_op.create_index('ix_incidents_subject', ['subject_type', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_unit_id'), ['unit_id'], unique=False)

    op.create_table('incident_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('legacy_object', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_actions_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_actions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_actions'))
    )
    with op.batch_alter_table('incident_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_actions_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('recipient_role', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=False),
    sa.Column('means', sa.String(length=100), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_notifications_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_incident_notifications_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notifications'))
    )
    with op.batch_alter_table('incident_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_notifications_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_incident_evidence_added_by_id_users')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_incident_evidence_file_id_stored_files')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_evidence_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_evidence'))
    )
    with op.batch_alter_table('incident_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_evidence_incident_id'), ['incident_id'], unique=False)

    items = op.create_table('incident_checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('incidentkind', KINDS), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('text_ja', sa.String(length=300), nullable=False),
    sa.Column('text_en', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_checklist_items')),
    sa.UniqueConstraint('kind', 'code', name='uq_incident_checklist_items_kind_code')
    )
    with op.batch_alter_table('incident_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_checklist_items_kind'), ['kind'], unique=False)

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(items, [
        {"kind": kind, "code": code, "text_ja": ja, "text_en": en, "position": position, "retired": False,
         "created_at": now, "updated_at": now, "version": 1}
        for kind, rows in CHECKLISTS.items() for position, (code, ja, en) in enumerate(rows, start=1)])

    _move_social_incidents(now)

    with op.batch_alter_table('social_incident_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_incident_actions_incident_id'))
    op.drop_table('social_incident_actions')
    with op.batch_alter_table('social_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_incidents_kind'))
        batch_op.drop_index(batch_op.f('ix_social_incidents_closed_on'))
        batch_op.drop_index(batch_op.f('ix_social_incidents_account_id'))
    op.drop_table('social_incidents')


def _move_social_incidents(now):
    """Each SNS incident becomes an incident of its account with the same id;
    its timeline keeps its ids too. Their audit entries stay as they were
    (the hash chain covers them): ``legacy_object`` names the old row."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT i.id, i.account_id, i.kind, i.occurred_on, i.summary, i.notified, i.checklist, i.reported_by_id,"
        " i.closed_on, i.closing_note, i.created_at, i.updated_at, i.version, a.name AS account_name,"
        " a.unit_id AS unit_id FROM social_incidents i JOIN social_accounts a ON a.id = i.account_id"
        " ORDER BY i.id")).mappings().all()
    actions = conn.execute(sa.text("SELECT id, incident_id, at, user_id, text FROM social_incident_actions"
                                   " ORDER BY id")).mappings().all()
    acted = {action["incident_id"] for action in actions}
    incidents = sa.table('incidents', sa.column('checklist', sa.JSON), *[sa.column(name) for name in (
        'id', 'number', 'kind', 'severity', 'status', 'title', 'summary', 'subject_type', 'subject_id', 'unit_id',
        'occurred_at', 'learned_at', 'recorded_by_id', 'personal_data', 'my_number', 'wrongful_intent',
        'cause', 'closed_at', 'closed_by_id', 'legacy_object', 'created_at', 'updated_at', 'version')])
    timeline = sa.table('incident_actions', *[sa.column(name) for name in (
        'id', 'incident_id', 'at', 'user_id', 'text', 'legacy_object')])
    numbers: dict[int, int] = {}
    moved, steps = [], []
    for row in rows:
        occurred = row["occurred_on"]
        occurred = dt.date.fromisoformat(occurred[:10]) if isinstance(occurred, str) else occurred
        year = _fiscal_year(occurred)
        numbers[year] = numbers.get(year, 0) + 1
        closed = row["closed_on"]
        status = "closed" if closed is not None else ("responding" if row["id"] in acted else "received")
        moved.append({
            "id": row["id"], "number": f"INC-{year}-{numbers[year]:03d}", "kind": row["kind"],
            "severity": SEVERITY.get(row["kind"], "minor"), "status": status,
            "title": f"{KIND_JA.get(row['kind'], row['kind'])}（{row['account_name']}）"[:200],
            "summary": row["summary"], "subject_type": "social_account", "subject_id": row["account_id"],
            "unit_id": row["unit_id"], "occurred_at": _midnight_utc(occurred),
            "learned_at": row["created_at"] or _midnight_utc(occurred), "recorded_by_id": row["reported_by_id"],
            "personal_data": False, "my_number": False, "wrongful_intent": False,
            "checklist": row["checklist"] if not isinstance(row["checklist"], str) else _json(row["checklist"]),
            "cause": row["closing_note"], "closed_at": _midnight_utc(closed) if closed is not None else None,
            "closed_by_id": row["reported_by_id"] if closed is not None else None,
            "legacy_object": f"social_incidents:{row['id']}", "created_at": row["created_at"] or now,
            "updated_at": row["updated_at"] or now, "version": row["version"] or 1})
        if row["notified"]:
            steps.append({"incident_id": row["id"], "at": row["created_at"] or now, "user_id": row["reported_by_id"],
                          "text": f"報告先（移行前の記録）: {row['notified']}", "legacy_object": None})
    for action in actions:
        steps.append({"id": action["id"], "incident_id": action["incident_id"], "at": action["at"],
                      "user_id": action["user_id"], "text": action["text"],
                      "legacy_object": f"social_incident_actions:{action['id']}"})
    if moved:
        op.bulk_insert(incidents, moved)
    with_ids = [step for step in steps if "id" in step]
    if with_ids:
        op.bulk_insert(timeline, with_ids)
    if conn.dialect.name == "postgresql":  # the rows came with their ids: the next id follows them
        for table in ("incidents", "incident_actions"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                 f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))
    without_ids = [step for step in steps if "id" not in step]
    if without_ids:
        op.bulk_insert(sa.table('incident_actions', *[sa.column(name) for name in (
            'incident_id', 'at', 'user_id', 'text', 'legacy_object')]), without_ids)


def _jst_day(moment):
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(JST).date()


def _json(text):
    import json
    return json.loads(text) if text else None


def downgrade():
    """The SNS incidents go back to the SNS register (with their ids); the
    others are lost, as their tables are."""
    op.create_table('social_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('impersonation', 'takeover', 'wrong_post', 'outage', name='incidentkind', native_enum=False, length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('notified', sa.Text(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['social_accounts.id'], name=op.f('fk_social_incidents_account_id_social_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_social_incidents_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_incidents'))
    )
    with op.batch_alter_table('social_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_incidents_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_incidents_closed_on'), ['closed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_incidents_kind'), ['kind'], unique=False)
    op.create_table('social_incident_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['social_incidents.id'], name=op.f('fk_social_incident_actions_incident_id_social_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_social_incident_actions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_incident_actions'))
    )
    with op.batch_alter_table('social_incident_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_incident_actions_incident_id'), ['incident_id'], unique=False)
    conn = op.get_bind()
    back = conn.execute(sa.text(
        "SELECT id, subject_id, kind, occurred_at, summary, checklist, recorded_by_id, closed_at, cause,"
        " created_at, updated_at, version FROM incidents WHERE subject_type = 'social_account'"
        " AND kind IN ('impersonation', 'takeover', 'wrong_post', 'outage') ORDER BY id")).mappings().all()
    old = sa.table('social_incidents', sa.column('checklist', sa.JSON), *[sa.column(name) for name in (
        'id', 'account_id', 'kind', 'occurred_on', 'summary', 'reported_by_id', 'closed_on', 'closing_note',
        'created_at', 'updated_at', 'version')])
    if back:
        op.bulk_insert(old, [{
            "id": row["id"], "account_id": row["subject_id"], "kind": row["kind"],
            "occurred_on": _jst_day(row["occurred_at"]), "summary": row["summary"],
            "checklist": _json(row["checklist"]) if isinstance(row["checklist"], str) else row["checklist"],
            "reported_by_id": row["recorded_by_id"], "closed_on": _jst_day(row["closed_at"]),
            "closing_note": row["cause"], "created_at": row["created_at"], "updated_at": row["updated_at"],
            "version": row["version"]} for row in back])
        conn.execute(sa.text(
            "INSERT INTO social_incident_actions (incident_id, at, user_id, text)"
            " SELECT a.incident_id, a.at, a.user_id, a.text FROM incident_actions a"
            " WHERE a.incident_id IN (SELECT id FROM social_incidents) ORDER BY a.id"))
    for table in ('incident_checklist_items', 'incident_evidence', 'incident_notifications', 'incident_actions',
                  'incidents'):
        op.drop_table(table)
