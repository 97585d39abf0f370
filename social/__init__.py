"""SNS Official social-media accounts."""
from flask import Flask

from core import plugins
from social import demo, gendata
from social.views import bp


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(bp)
    plugins.registry(app).add_seeder(40, demo.seed)
    plugins.registry(app).add_generator(40, gendata.generate)
