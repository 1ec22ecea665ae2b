"""The dashboard's navigation: a small per-app registry that capability pages add themselves to.

Each app owns its own ``Nav`` (on ``app.state``), so several apps in one process (tests) never share items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from tradeoff.platform.auth import Role

DASHBOARD_ROLES = frozenset({Role.ADMIN, Role.STAFF})


@dataclass(frozen=True, slots=True)
class NavItem:
    """One link in the top navigation, shown only to the given roles; lower ``order`` comes first."""

    title: str
    path: str
    roles: frozenset[Role] = DASHBOARD_ROLES
    order: int = 100

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.startswith("//"):
            raise ValueError(f"nav path must be a local absolute path, got {self.path!r}")
        if not self.title.strip():
            raise ValueError("nav title must not be empty")

    def visible_to(self, role: Role) -> bool:
        return role in self.roles

    def is_active(self, path: str) -> bool:
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


@dataclass
class Nav:
    items: list[NavItem] = field(default_factory=list)

    def add(self, item: NavItem) -> None:
        if any(existing.path == item.path for existing in self.items):
            raise ValueError(f"a nav item for {item.path!r} is already registered")
        self.items.append(item)

    def for_role(self, role: Role) -> list[NavItem]:
        visible = [item for item in self.items if item.visible_to(role)]
        return sorted(visible, key=lambda item: (item.order, item.title))


def nav_of(app: FastAPI) -> Nav:
    """The app's nav registry, created on first use."""
    nav: Nav | None = getattr(app.state, "dashboard_nav", None)
    if nav is None:
        nav = Nav()
        app.state.dashboard_nav = nav
    return nav


def add_nav_item(
    app: FastAPI,
    title: str,
    path: str,
    *,
    roles: frozenset[Role] | set[Role] = DASHBOARD_ROLES,
    order: int = 100,
) -> NavItem:
    """Add a link to the dashboard's navigation (a capability's page calls this when it is installed)."""
    item = NavItem(title=title, path=path, roles=frozenset(roles), order=order)
    nav_of(app).add(item)
    return item
