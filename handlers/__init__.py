"""Handlers for what followers send, registered declaratively on ``bot.registry.registry``.

Importing a module registers its handlers; ``load_all`` imports every module once.
"""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
