"""The URL table (web/route_table.py): every route names a handler that exists, and the route modules are
imported on the first request of one of their routes, not when the server starts (issue #13)."""

from __future__ import annotations

import importlib
import inspect

from tests.support.server_imports import server_modules
from web.route_table import ROUTES


def test_every_route_names_an_async_handler_of_its_module() -> None:
    for route in ROUTES:
        handler = getattr(importlib.import_module(f"web.routes.{route.module}"), route.function, None)
        assert inspect.iscoroutinefunction(handler), route
        assert handler.__module__ == f"web.routes.{route.module}", route


def test_no_route_is_declared_twice() -> None:
    declared = [(route.method, route.path) for route in ROUTES]
    assert len(declared) == len(set(declared))


def test_the_server_imports_only_the_inbox_routes_before_a_request() -> None:
    assert server_modules("web.routes") == ["web.routes", "web.routes.inbox"]
