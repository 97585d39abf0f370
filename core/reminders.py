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
from sqlalchemy import select

from core.db import db
from core.due import DueItem, all_items
from core.models import ReminderLog, Role, User
from core.timeutil import today

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
    """Send what is due today and record it; a failed send records nothing
    for that recipient, so the next run tries again."""
    on = on or today()
    already = set(db.session.execute(select(ReminderLog.item_key, ReminderLog.threshold)).all())
    users = {u.id: u for u in db.session.scalars(select(User).where(User.active))}
    admins = [u for u in users.values() if u.has_role(Role.ADMIN) and u.email]
    digests: dict[int, list[tuple[DueItem, str]]] = {}
    for item in all_items():
        step = threshold_for(item, on)
        if step is None or (item.key, step) in already:
            continue
        for user in _recipients(item, users, admins):
            digests.setdefault(user.id, []).append((item, step))
    outcome = Outcome()
    for user_id, entries in digests.items():
        user = users[user_id]
        # Links are built as if for a request to BASE_URL (commands have none).
        try:
            with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
                _send(user, entries, on)
        except (smtplib.SMTPException, OSError) as error:
            # Nothing is recorded for this person: the next run tries again.
            current_app.logger.error("reminder to %s failed: %s", user.username, error)
            outcome.failed.append(f"{user.username}: {error}")
            continue
        for item, step in entries:
            if (item.key, step) not in already:
                db.session.add(ReminderLog(item_key=item.key, threshold=step, recipient_id=user.id))
                already.add((item.key, step))
        db.session.commit()
        outcome.sent += 1
        outcome.items += len(entries)
    return outcome


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
