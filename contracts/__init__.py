"""契約 Contracts: register, security clauses, verification."""
from contracts.verification_views import bp as verification_bp  # noqa: F401
from contracts.views import bp  # noqa: F401
