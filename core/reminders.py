"""Reminders: one digest email per responsible person, at 30, 7 and 0 days
before a due date and once overdue — never twice for the same item and
threshold.  Items nobody is responsible for go to the administrators.
``flask --app app remind`` runs it (from cron)."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import db
from core.due import DueItem, all_items
from core.models import ReminderLog, Role, User
from core.timeutil import today, utcnow

THRESHOLDS = (30, 7, 0)


def threshold_for(item: DueItem, on) -> str | None:
    """The reminder step an item has reached today, if any."""
    days_left = (item.due_on - on).days
    if days_left < 0:
        return "overdue"
    for limit in sorted(THRESHOLDS):
        if days_left <= limit:
            return str(limit)
    return None


@dataclass
class Outcome:
    sent: int = 0  # emails
    items: int = 0  # item lines in them
    failed: list[str] = field(default_factory=list)  # "user: reason" for sends that failed


def _recipients(item: DueItem, users: dict[int, User], admins: list[User]) -> list[User]:
    owner = users.get(item.owner_id) if item.owner_id else None
    if owner is not None and owner.active and owner.email:
        return [owner]
    return admins


def run(on=None) -> Outcome:
    """Send what is due today, each (item, threshold) once even when two
    runs start together (two servers' cron, or cron and a manual run):
    record first, then send.  Each (item, threshold) is claimed with an
    insert that skips what another run claimed already (the unique index
    decides, in the database), the claims are committed, and only what this
    run claimed is sent.  An item none of whose recipients could be reached
    is released again, so the next run tries it again."""
    on = on or today()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.active))}
    admins = [u for u in users.values() if u.has_role(Role.ADMIN) and u.email]
    due: dict[tuple[str, str], tuple[DueItem, list[User]]] = {}
    for item in all_items():
        step = threshold_for(item, on)
        recipients = _recipients(item, users, admins) if step is not None else []
        if recipients:
            due[(item.key, step)] = (item, recipients)
    claimed = _claim({key: recipients[0].id for key, (_item, recipients) in due.items()})
    db.session.commit()
    digests: dict[int, list[tuple[DueItem, str]]] = {}
    for key in claimed:
        item, recipients = due[key]
        for user in recipients:
            digests.setdefault(user.id, []).append((item, key[1]))
    outcome = Outcome()
    delivered: set[tuple[str, str]] = set()
    for user_id, entries in digests.items():
        user = users[user_id]
        # Links are built as if for a request to BASE_URL (commands have none).
        try:
            with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
                _send(user, entries, on)
        except (smtplib.SMTPException, OSError) as error:
            current_app.logger.error("reminder to %s failed: %s", user.username, error)
            outcome.failed.append(f"{user.username}: {error}")
            continue
        delivered.update((item.key, step) for item, step in entries)
        outcome.sent += 1
        outcome.items += len(entries)
    _release(claimed - delivered)
    db.session.commit()
    return outcome


def _claim(wanted: dict[tuple[str, str], int | None]) -> set[tuple[str, str]]:
    """Insert a log row for each wanted (item key, threshold) — with its
    first recipient — unless one exists; the keys this call inserted."""
    if not wanted:
        return set()
    dialect = db.session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    now = utcnow()
    rows = [{"item_key": key, "threshold": step, "recipient_id": recipient, "sent_at": now}
            for (key, step), recipient in wanted.items()]
    claimed = set()
    for start in range(0, len(rows), 500):  # within SQLite's limit of bound parameters
        stmt = (insert(ReminderLog).values(rows[start:start + 500])
                .on_conflict_do_nothing(index_elements=["item_key", "threshold"])
                .returning(ReminderLog.item_key, ReminderLog.threshold))
        claimed |= {(row.item_key, row.threshold) for row in db.session.execute(stmt)}
    return claimed


def _release(keys: set[tuple[str, str]]) -> None:
    """Give back claims whose mail went out to nobody."""
    for key, step in keys:
        db.session.execute(delete(ReminderLog).where(ReminderLog.item_key == key, ReminderLog.threshold == step))


def _send(user: User, entries: list[tuple[DueItem, str]], on) -> None:
    cfg = current_app.config
    with force_locale(user.locale or "ja"):
        links = [(item, step, url_for(item.endpoint, _external=True, **item.params)) for item, step in entries]
        subject = render_template("email/reminder_subject.txt", count=len(entries)).strip()
        body = render_template("email/reminder.txt", user=user, entries=links, today=on)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = cfg["MAIL_SENDER"]
    message["To"] = user.email
    message.set_content(body)
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=30) as smtp:
        if cfg.get("MAIL_STARTTLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(message)
