"""外部サービス Cloud and external services."""
from flask import Flask

from cloud.views import bp


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(bp)
