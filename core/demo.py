"""Demo data: a small, believable fire-department association.

Core loads what every domain stands on — the organisational units, one
user per role, the classification levels — and then runs the seeders the
domains registered (``plugins.registry().seeders``, in their order), each
of which adds its domain's records through the domain's own rules (a demo
contract is signed through the signing gate, like one on the page), handed
a :class:`Demo` with what they share.

Loading is idempotent: every record is looked up by its natural key first,
so running ``flask demo`` again changes nothing.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from core import accounts, files, plugins, timeutil
from core.db import db
from core.models import ClassificationLevel, OrgUnit, Role, User

# (name, English name, parent, sort order)
UNITS = (
    ("消防本部", "Fire Headquarters", None, 10),
    ("総務課", "General Affairs Division", "消防本部", 11),
    ("警防課", "Fire Defense Division", "消防本部", 12),
    ("予防課", "Fire Prevention Division", "消防本部", 13),
    ("通信指令課", "Emergency Communications Division", "消防本部", 14),
    ("中央消防署", "Central Fire Station", None, 20),
    ("中央消防署 東出張所", "Central Fire Station, East Branch", "中央消防署", 21),
    ("中央消防署 西出張所", "Central Fire Station, West Branch", "中央消防署", 22),
    ("北消防署", "North Fire Station", None, 30),
    ("北消防署 川沿出張所", "North Fire Station, Kawazoi Branch", "北消防署", 31),
    ("組合議会事務局", "Assembly Secretariat", None, 40),
)

# (username, display name, unit, roles) — one user per role, named after it.
USERS = (
    ("admin", "管理 太郎", "総務課", (Role.ADMIN,)),
    ("procurement", "調達 花子", "総務課", (Role.PROCUREMENT,)),
    ("verifier", "確認 次郎", "通信指令課", (Role.VERIFIER,)),
    ("social", "広報 さくら", "予防課", (Role.SOCIAL,)),
    ("auditor", "監査 健一", "組合議会事務局", (Role.AUDITOR,)),
    ("approver", "承認 誠", "総務課", (Role.APPROVER,)),
    ("lead", "統括 守", "総務課", (Role.LEAD,)),
)


# A one-page PDF, so the demo has real files (certificates, evidence) to download.
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


@dataclass(frozen=True)
class Demo:
    """What a domain's seeder is handed: the units and users (by name) and
    the classification levels (by code) core loaded, and the day the demo's
    dates are counted from."""
    units: dict[str, OrgUnit]
    users: dict[str, User]
    levels: dict[str, ClassificationLevel]
    today: dt.date

    def upload(self, filename: str) -> FileStorage:
        """DEMO_PDF as an upload named ``filename``, for a service that stores it."""
        return FileStorage(io.BytesIO(DEMO_PDF), filename=filename)

    def pdf(self, filename: str, *, user: User, allowed: tuple[str, ...] = files.DOCUMENT_TYPES):
        """A stored copy of DEMO_PDF named ``filename``, uploaded by ``user``."""
        return files.store(self.upload(filename), allowed=allowed, user=user)


def _get_or_create(model, key: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**key))
    if obj is None:
        obj = model(**key, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def load(password: str) -> dict[str, int]:
    """Load what is missing; return how many rows each table gained."""
    before = _counts()
    units = {}
    for name, name_en, parent, order in UNITS:
        units[name] = _get_or_create(OrgUnit, {"name": name}, name_en=name_en,
                                     parent=units.get(parent), sort_order=order)
    users = {}
    for username, display_name, unit, roles in USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(username=username, display_name=display_name, password=password,
                                        roles=roles, unit=units[unit], email=f"{username}@example.lg.jp")
        users[username] = user
    levels = {lv.code: lv for lv in db.session.scalars(select(ClassificationLevel))}
    demo = Demo(units=units, users=users, levels=levels, today=timeutil.today())
    for seed in plugins.registry().seeders:
        seed(demo)
    db.session.flush()
    after = _counts()
    return {name: after[name] - before[name] for name in after}


def _counts() -> dict[str, int]:
    """Rows per table (every table the app maps, in dependency order)."""
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def demo_password() -> str:
    return current_app.config["DEMO_PASSWORD"]
