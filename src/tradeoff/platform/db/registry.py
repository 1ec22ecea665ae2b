"""Collects the tables of every package, so migrations and the classification test see all of them.

Capability packages declare their tables on the shared ``metadata`` in modules named ``store``
(``tradeoff/<capability>/store.py`` or deeper); they are found here without being listed.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sqlalchemy import MetaData

from tradeoff.platform.db.tables import metadata

STORAGE_PACKAGES = ("platform", "privacy", "presence", "offers", "pos", "vending", "analytics")


@cache
def all_metadata() -> MetaData:
    for package_name in STORAGE_PACKAGES:
        try:
            package = importlib.import_module(f"tradeoff.{package_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tradeoff.{package_name}":
                raise  # the package exists but something it imports does not
            continue
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if module.name.rsplit(".", 1)[-1] == "store":
                importlib.import_module(module.name)
    return metadata
