"""Small view helpers shared by the registers."""
from __future__ import annotations

from typing import Callable

from flask import abort, flash, redirect

from core import files
from core.db import db
from core.forms import CSRFForm
from core.refusals import Refusal


def delete_owned(model, part_id: int, owner_field: str, owner_id: int) -> bool:
    """Delete a row that belongs to another (a vendor's contact, a contract's
    subcontractor…) after checking it really is that owner's and the POST
    carries its CSRF token.  Returns whether it was deleted; the deletion is
    audited by the model's flush, and the caller commits."""
    part = db.get_or_404(model, part_id)
    if getattr(part, owner_field) != owner_id:
        abort(404)
    if not CSRFForm().validate_on_submit():
        return False
    db.session.delete(part)
    db.session.flush()
    return True


def record_end_of_life(form, save: Callable[[], object], *, done: str, back: str):
    """The end-of-life record of a register's entry — a contract's 返却・廃棄
    (C09), a cloud service's データの消去・返却 — from its form (done_on,
    method, detail, evidence): ``save`` calls the domain's service; a
    rejected file or a refusal shows beside its field, nothing saved;
    otherwise commit, say ``done`` and go ``back``.  Returns the redirect,
    or None to show the form again."""
    if not form.validate_on_submit():
        return None
    try:
        save()
    except files.FileRejected as error:
        db.session.rollback()
        form.evidence.errors.append(str(error))
    except Refusal as error:
        db.session.rollback()
        form[error.field or "done_on"].errors.append(str(error))
    else:
        db.session.commit()
        flash(done, "success")
        return redirect(back)
    return None
