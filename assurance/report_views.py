"""年次報告: the annual report to the CISO and the committee, as a page
(``/report/?year=Y``, in the user's language) and a PDF (``/report/Y.pdf``,
Japanese, as every document), generated on demand; each print is recorded
in the audit trail (core.pdf.record_print).

Read by those who report and those reported to: administrators, the security
lead (統括情報セキュリティ責任者), auditors and approvers (the committee's side).
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from assurance import report
from core import pdf, plugins
from core.auth import access
from core.db import db
from core.i18n import locale_code
from core.lists import int_arg
from core.models import Role
from core.timeutil import fiscal_year, fiscal_year_label, today

bp = Blueprint("report", __name__, url_prefix="/report")
READERS = frozenset({Role.ADMIN, Role.LEAD, Role.AUDITOR, Role.APPROVER})
FIRST_YEAR = 2000
YEARS_OFFERED = 6  # the current year and the five before, in the year menu


def init_app(app: Flask) -> None:
    """The pages, core's own figure, and the report's place on the checklists page."""
    app.register_blueprint(bp)
    house = plugins.registry(app)
    house.add_report_figures(50, report.measure_figures)
    house.add_document(plugins.Document(5, _l("情報セキュリティ年次報告（CISO・委員会）"), "report.index"))


def _year(value: int | None) -> int:
    """A 年度 that has begun (404 otherwise)."""
    if value is None or not FIRST_YEAR <= value <= fiscal_year(today()):
        abort(404)
    return value


@bp.route("/")
@access(READERS)
def index():
    text = request.args.get("year", "")
    year = _year(int_arg(text) if text else fiscal_year(today()))
    current = fiscal_year(today())
    years = [(y, fiscal_year_label(y, locale_code())) for y in range(current, current - YEARS_OFFERED, -1)]
    return render_template("report/index.html", report=report.build(year), years=years,
                           label=fiscal_year_label(year, locale_code()), number=report.number,
                           previous_label=fiscal_year_label(year - 1, locale_code()))


@bp.route("/<int:year>.pdf")
@access(READERS)
def pdf_report(year: int):
    year = _year(year)
    with force_locale("ja"):
        rendered = report.render(report.build(year), user=current_user, org=str(current_app.config["ORG_NAME"]))
    pdf.record_print(rendered, document="annual_report", object_type="documents", extra={"fiscal_year": year})
    db.session.commit()
    return pdf.send(rendered, f"年次報告_{year}.pdf")
