"""委託事業者 Vendors: register, certifications, selection."""
from vendors.views import bp  # noqa: F401
