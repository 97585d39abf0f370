"""点検表 Checklists: the self-inspection items and every printable document,
with filters (fiscal year, unit, and what the domains add).  The documents
themselves are built by the domains (their documents modules) and
core.inspection."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import force_locale
from flask_login import current_user

from core import inspection, inspection_items, pdf, plugins
from core.auth import ALL_ROLES, AUDIT_READERS, access
from core.db import db
from core.forms import unit_choices
from core.lists import int_arg
from core.models import OrgUnit
from core.timeutil import fiscal_year, fiscal_year_label, today

bp = Blueprint("checklists", __name__, url_prefix="/checklists")


def _scope() -> inspection.Scope:
    """The fiscal year and unit from the query string (the current year and
    every unit by default); anything else is refused with 404."""
    current = fiscal_year(today())
    fy, unit = request.args.get("fy", ""), request.args.get("unit", "")
    year = int_arg(fy, minimum=2000, maximum=current + 1) if fy else current
    unit_id = int_arg(unit) if unit else None
    if year is None or (unit and (unit_id is None or db.session.get(OrgUnit, unit_id) is None)):
        abort(404)
    return inspection.Scope(year, unit_id)


@bp.route("/")
@access(ALL_ROLES)
def index():
    """The documents the domains offer (core/plugins.py: ``add_document``, and
    the blocks of the ``checklists.filters`` and ``checklists.index`` slots)."""
    scope = _scope()
    current = fiscal_year(today())
    years = [(year, fiscal_year_label(year)) for year in range(current + 1, current - 5, -1)]
    found = inspection_items.catalogue()
    return render_template("checklists/index.html", items=[item for item in found.items if not item.retired],
                           areas=found.areas, scope=scope, years=years,
                           units=unit_choices(include_blank=False), documents=plugins.registry().documents,
                           fy_label=fiscal_year_label(scope.fiscal_year))


def _unit_name(scope: inspection.Scope) -> str | None:
    unit = db.session.get(OrgUnit, scope.unit_id) if scope.unit_id else None
    return unit.name if unit else None


@bp.route("/self-inspection.pdf")
@access(AUDIT_READERS)
def self_inspection_pdf():
    scope = _scope()
    with force_locale("ja"):
        section = inspection.self_inspection_section(scope)
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, document="self_inspection", object_type="documents",
                     extra={"fiscal_year": scope.fiscal_year, "unit_id": scope.unit_id})
    db.session.commit()
    return pdf.send(rendered, f"自己点検表_{scope.fiscal_year}.pdf")


@bp.route("/pack.pdf")
@access(AUDIT_READERS)
def pack_pdf():
    scope = _scope()
    with force_locale("ja"):
        rendered = inspection.pack(scope, user=current_user, unit_name=_unit_name(scope))
    pdf.record_print(rendered, document="audit_pack", object_type="documents",
                     extra={"fiscal_year": scope.fiscal_year, "unit_id": scope.unit_id})
    db.session.commit()
    return pdf.send(rendered, f"監査資料_{scope.fiscal_year}.pdf")
