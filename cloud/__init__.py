"""外部サービス Cloud and external services."""
from cloud.views import bp  # noqa: F401
