"""契約 Contracts: register, security clauses, verification."""
from contracts import due, gaps  # noqa: F401,E402  (the stored gap flag and due date follow every change)
from contracts.verification_views import bp as verification_bp  # noqa: F401
from contracts.views import bp  # noqa: F401
