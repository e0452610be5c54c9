"""ITB trial app: the Flask application factory (and nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides what the environment says (tests pass a mapping)."""
    from . import cli
    from .config import load_config
    from .extensions import init_extensions
    from .web import assets, filters, i18n, ratelimit, security
    from .web.errors import register_error_handlers
    from .web.jsonbody import BoundedJSONProvider

    app = Flask(__name__, instance_relative_config=True)
    app.json = BoundedJSONProvider(app)  # JSON bodies: bounded nesting, no NaN (web/jsonbody.py)
    app.config.from_mapping(load_config(app.instance_path, config))
    from .web.clock import set_fixed_now

    set_fixed_now(app.config["TEST_NOW"])  # None (the real clock) unless a browser test stops it
    init_extensions(app)
    security.init_app(app)
    assets.init_app(app)
    filters.init_app(app)
    i18n.init_app(app)
    ratelimit.init_app(app)
    from .auth import session as auth_session

    auth_session.init_app(app)
    register_error_handlers(app)

    from .admin import bp as admin_bp
    from .assessments import bp as assessments_bp
    from .auth import bp as auth_bp
    from .decisions import bp as decisions_bp
    from .dosing import bp as dosing_bp
    from .exports import bp as exports_bp
    from .goals import bp as goals_bp
    from .overview import bp as overview_bp
    from .parents import bp as parents_bp
    from .pwa import bp as pwa_bp
    from .summary import bp as summary_bp
    from .sync_api import bp as sync_api_bp
    from .trials import bp as trials_bp
    from .web.health import bp as health_bp
    from .web.routing import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    for bp in (health_bp, auth_bp, overview_bp, trials_bp, assessments_bp, dosing_bp, decisions_bp, goals_bp,
               parents_bp, exports_bp, summary_bp, admin_bp, pwa_bp, sync_api_bp):
        app.register_blueprint(bp)
    cli.register(app)
    return app
