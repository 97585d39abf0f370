"""委託事業者 Vendors: register, certifications, selection."""
from flask import Flask

from core import plugins
from vendors import demo, gendata
from vendors.views import bp


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(bp)
    plugins.registry(app).add_seeder(10, demo.seed)
    plugins.registry(app).add_generator(10, gendata.generate)
