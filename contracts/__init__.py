"""契約 Contracts: register, security clauses, verification."""
from flask import Flask

from contracts import demo, due, gaps, gendata  # noqa: F401  (due, gaps: the stored gap flag and due date follow every change)
from contracts.verification_views import bp as verification_bp
from contracts.views import bp
from core import plugins


def init_app(app: Flask) -> None:
    """Plug contracts and their verification into the app (core/plugins.py)."""
    app.register_blueprint(bp)
    app.register_blueprint(verification_bp)
    plugins.registry(app).add_seeder(20, demo.seed)
    plugins.registry(app).add_generator(20, gendata.generate)
