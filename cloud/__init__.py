"""外部サービス Cloud and external services."""
from flask import Flask

from cloud import demo, gendata
from cloud.views import bp
from core import plugins


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(bp)
    plugins.registry(app).add_seeder(30, demo.seed)
    plugins.registry(app).add_generator(30, gendata.generate)
