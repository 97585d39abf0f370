"""Small view helpers shared by the registers."""
from __future__ import annotations

from flask import abort

from core.db import db
from core.forms import CSRFForm


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
