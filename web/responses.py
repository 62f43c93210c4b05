"""Response helpers: AS2 JSON and jinja2-rendered HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from federation.context import AS2_MEDIA_TYPE
from web import template_cache
from web.context import PAGE_VALUES, get_context

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates change with a deploy, which restarts the process: no stat of every template (and of each
    # one it extends or imports) on every render to see whether it changed on disk (issue #13).
    auto_reload=False,
)


def keep_compiled_templates(cache_dir: Path) -> Path | None:
    """For a long-running server process: compiled templates kept under ``cache_dir`` between starts
    (web/template_cache.py says why and how a changed template or option is never served stale)."""
    return template_cache.keep_compiled(_TEMPLATES, cache_dir, Path(__file__))


def json_bytes(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def activity_json(document: object, *, status: int = 200) -> web.Response:
    return activity_json_bytes(json_bytes(document), status=status)


def activity_json_bytes(body: bytes, *, status: int = 200) -> web.Response:
    """An AS2 answer whose body is already encoded (web.document_cache)."""
    return web.Response(
        body=body,
        status=status,
        content_type=AS2_MEDIA_TYPE,
        charset="utf-8",
        headers={"Vary": "Accept"},
    )


def plain_json(document: object, *, content_type: str = "application/json", cors: bool = False) -> web.Response:
    return plain_json_bytes(json_bytes(document), content_type=content_type, cors=cors)


def plain_json_bytes(body: bytes, *, content_type: str = "application/json", cors: bool = False) -> web.Response:
    headers = {"Access-Control-Allow-Origin": "*"} if cors else {}
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers=headers,
    )


def page_values(request: web.Request, **values: Any) -> dict[str, Any]:
    """What a page's template sees: the node, the request's page values (web.sessions), then ``values``."""
    ctx = get_context(request)
    return {"node_name": ctx.node_name, "base_url": ctx.urls.base, **request.get(PAGE_VALUES, {}), **values}


def template_module(template: str, values: dict[str, Any]) -> Any:
    """``template``'s macros, callable from Python, seeing ``values`` as a page would (web.thread_cache)."""
    return _TEMPLATES.get_template(template).make_module(values)


def html_page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    body = _TEMPLATES.get_template(template).render(page_values(request, **values))
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers={"Vary": "Accept"})
