"""JSON APIs under /api/v1/: each module in this package exposes a Blueprint named ``bp``."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def register_all(app: Flask) -> None:
    for module in pkgutil.iter_modules(__path__):
        blueprint = getattr(importlib.import_module(f"{__name__}.{module.name}"), "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)
