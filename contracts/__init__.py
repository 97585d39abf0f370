"""契約 Contracts: register, security clauses, verification."""
from contracts.views import bp  # noqa: F401
