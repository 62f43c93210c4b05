"""The URL table of the site: every route, in matching order, with the module and function that answer it.

The handlers' modules (web/routes/) are imported on the first request of one of their routes, not when the
application is built: an idle node keeps only the pages it has served in memory (issue #13, bench/README.md).
The table is the one place where URLs are declared; which methods a path has, and so the router's 404 and 405
answers, come from it alone. ``web.routes.inbox`` is imported when the app is built (``inbox.install``), so
its handlers are registered directly.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from web import page_cache

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    module: str  # in web/routes/
    function: str
    cacheable: bool = False  # an anonymous page kept rendered (web/page_cache.py)


ROUTES: tuple[Route, ...] = (
    # web/routes/discovery.py
    Route("GET", "/.well-known/webfinger", "discovery", "webfinger"),
    Route("GET", "/.well-known/host-meta", "discovery", "host_meta"),
    Route("GET", "/.well-known/nodeinfo", "discovery", "nodeinfo_links"),
    Route("GET", "/nodeinfo/{version}", "discovery", "nodeinfo"),
    # web/routes/actors.py
    Route("GET", "/{kind:users|groups}/{name}", "actors", "actor", cacheable=True),
    Route("GET", "/actor", "actors", "actor", cacheable=True),
    Route("GET", "/{kind:users|groups}/{name}/{collection:outbox|followers|following|featured|moderators}",
          "actors", "collection"),
    Route("GET", "/actor/{collection:outbox|followers|following|featured}", "actors", "collection"),
    # web/routes/inbox.py
    Route("POST", "/{kind:users|groups}/{name}/inbox", "inbox", "inbox"),
    Route("POST", "/actor/inbox", "inbox", "inbox"),
    Route("POST", "/inbox", "inbox", "inbox"),
    Route("GET", "/{kind:users|groups}/{name}/inbox", "inbox", "inbox_get"),
    Route("GET", "/actor/inbox", "inbox", "inbox_get"),
    Route("GET", "/inbox", "inbox", "inbox_get"),
    # web/routes/home.py
    Route("GET", "/", "home", "home", cacheable=True),
    Route("GET", "/branding.css", "home", "branding_css"),
    # web/routes/setup.py
    Route("GET", "/setup", "setup", "setup_form"),
    Route("POST", "/setup", "setup", "setup_submit"),
    # web/routes/account.py
    Route("GET", "/signup", "account", "signup_form"),
    Route("POST", "/signup", "account", "signup_submit"),
    Route("GET", "/login", "account", "login_form"),
    Route("POST", "/login", "account", "login_submit"),
    Route("POST", "/logout", "account", "logout"),
    Route("GET", "/settings", "account", "settings_index"),
    Route("GET", "/settings/password", "account", "password_form"),
    Route("POST", "/settings/password", "account", "password_submit"),
    Route("GET", "/settings/sessions", "account", "sessions_page"),
    Route("POST", "/settings/sessions/{id:[0-9]{1,9}}/end", "account", "end_session"),
    Route("POST", "/settings/sessions/end-others", "account", "end_other_sessions"),
    Route("GET", "/settings/profile", "account", "profile_form"),
    Route("POST", "/settings/profile", "account", "profile_submit"),
    # web/routes/account_mail.py
    Route("GET", "/password/forgot", "account_mail", "forgot_form"),
    Route("POST", "/password/forgot", "account_mail", "forgot_submit"),
    Route("GET", "/password/reset/{token:[A-Za-z0-9_-]{1,100}}", "account_mail", "reset_form"),
    Route("POST", "/password/reset/{token:[A-Za-z0-9_-]{1,100}}", "account_mail", "reset_submit"),
    Route("GET", "/email/confirm/{token:[A-Za-z0-9_-]{1,100}}", "account_mail", "confirm_form"),
    Route("POST", "/email/confirm/{token:[A-Za-z0-9_-]{1,100}}", "account_mail", "confirm_submit"),
    Route("GET", "/settings/email", "account_mail", "email_form"),
    Route("POST", "/settings/email", "account_mail", "email_submit"),
    Route("POST", "/settings/email/cancel", "account_mail", "email_cancel"),
    Route("POST", "/admin/users/{name}/reset-password", "account_mail", "admin_reset"),
    # web/routes/account_data.py
    Route("GET", "/settings/export", "account_data", "export_page"),
    Route("GET", "/settings/export.zip", "account_data", "export_download"),
    Route("GET", "/settings/delete", "account_data", "delete_form"),
    Route("POST", "/settings/delete", "account_data", "delete_submit"),
    Route("GET", "/admin/users/{name}/delete", "account_data", "admin_delete_form"),
    Route("POST", "/admin/users/{name}/delete", "account_data", "admin_delete_submit"),
    # web/routes/admin.py
    Route("GET", "/admin", "admin", "admin_index"),
    Route("GET", "/admin/settings", "admin", "settings_form"),
    Route("POST", "/admin/settings", "admin", "settings_submit"),
    Route("GET", "/admin/users", "admin", "users"),
    Route("POST", "/admin/users/{name}/{action:unsuspend|approve|reject}", "admin", "user_action"),
    Route("GET", "/admin/users/{name}/suspend", "admin", "suspend_form"),
    Route("POST", "/admin/users/{name}/suspend", "admin", "suspend"),
    Route("GET", "/admin/domains", "admin", "domains"),
    Route("POST", "/admin/domains", "admin", "add_domain"),
    Route("POST", "/admin/domains/remove", "admin", "remove_domain"),
    Route("GET", "/admin/accounts", "admin", "remote_accounts"),
    Route("POST", "/admin/accounts/suspend", "admin", "suspend_remote"),
    Route("POST", "/admin/accounts/unsuspend", "admin", "unsuspend_remote"),
    # web/routes/media.py
    Route("GET", "/media/{name}", "media", "media_file"),
    Route("GET", "/favicon.ico", "media", "favicon"),
    Route("GET", "/{kind:users|groups}/{name}/avatar", "media", "avatar"),
    # web/routes/objects.py
    Route("GET", "/objects/{uuid:[0-9a-fA-F-]{1,64}}", "objects", "object_view", cacheable=True),
    Route("GET", "/objects/{uuid:[0-9a-fA-F-]{1,64}}/{collection:replies|context|shares}", "objects", "object_collection"),
    Route("GET", "/activities/{uuid:[0-9a-fA-F-]{1,64}}", "objects", "activity_view"),
    # web/routes/people.py
    Route("GET", "/api/people", "people", "people_json"),
    Route("GET", "/people", "people", "people_page"),
    Route("GET", "/api/search", "people", "search_json"),
    Route("GET", "/search", "people", "search_page"),
    Route("GET", "/api/profile", "people", "own_profile"),
    Route("PUT", "/api/profile", "people", "update_own_profile"),
    Route("PUT", "/api/groups/{name}/needs", "people", "update_group_needs"),
    Route("GET", "/ns", "people", "context_document"),
    # web/routes/groups.py
    Route("GET", "/groups", "groups", "directory"),
    Route("GET", "/new-group", "groups", "new_group_form"),
    Route("POST", "/new-group", "groups", "new_group_submit"),
    Route("POST", "/groups/{name}/join", "groups", "join"),
    Route("POST", "/groups/{name}/leave", "groups", "leave"),
    Route("GET", "/groups/{name}/moderation", "groups", "moderation_page"),
    Route("POST", "/groups/{name}/requests", "groups", "answer_request"),
    Route("POST", "/groups/{name}/ban", "groups", "ban"),
    Route("POST", "/groups/{name}/unban", "groups", "unban"),
    Route("POST", "/groups/{name}/needs", "groups", "set_needs"),
    Route("GET", "/groups/{name}/roles", "groups", "roles_page"),
    Route("POST", "/groups/{name}/roles", "groups", "set_role"),
    Route("GET", "/remote-group", "groups", "remote_group"),
    Route("POST", "/remote-group/join", "groups", "remote_join"),
    Route("POST", "/remote-group/leave", "groups", "remote_leave"),
    # web/routes/group_settings.py
    Route("GET", "/groups/{name}/settings", "group_settings", "settings_form"),
    Route("POST", "/groups/{name}/settings", "group_settings", "settings_submit"),
    # web/routes/tag_suggestions.py
    Route("GET", "/api/tags", "tag_suggestions", "tags"),
    # web/routes/threads.py
    Route("GET", "/groups/{name}/new", "threads", "new_thread_form"),
    Route("POST", "/groups/{name}/new", "threads", "new_thread_submit"),
    Route("GET", "/remote-group/new", "threads", "new_remote_thread_form"),
    Route("POST", "/remote-group/new", "threads", "new_remote_thread_submit"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/boost", "threads", "boost"),
    Route("GET", "/posts/{id:[0-9]{1,9}}", "threads", "post_page"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/reply", "threads", "reply"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/vote", "threads", "vote"),
    Route("GET", "/posts/{id:[0-9]{1,9}}/edit", "threads", "edit_form"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/edit", "threads", "edit_submit"),
    Route("GET", "/posts/{id:[0-9]{1,9}}/delete", "threads", "delete_form"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/delete", "threads", "delete_submit"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/moderate", "threads", "moderate"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/status", "threads", "set_status"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/accept", "threads", "accept_answer"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/follow", "threads", "follow_thread"),
    # web/routes/board.py
    Route("GET", "/api/groups/{name}/board", "board", "group_board_json"),
    Route("GET", "/groups/{name}/board", "board", "group_board"),
    Route("GET", "/remote-group/board", "board", "remote_board"),
    Route("POST", "/groups/{name}/default-kind", "board", "default_kind"),
    # web/routes/docs.py
    Route("GET", "/groups/{name}/docs", "docs", "doc_list"),
    Route("POST", "/groups/{name}/docs/settings", "docs", "doc_settings"),
    Route("GET", "/groups/{name}/docs/new", "docs", "new_doc_form"),
    Route("POST", "/groups/{name}/docs/new", "docs", "new_doc_submit"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}", "docs", "doc_page"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/export.md", "docs", "export"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/edit", "docs", "edit_form"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/edit", "docs", "edit_submit"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/delete", "docs", "delete"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/history", "docs", "history"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/revisions/{number:[0-9]{1,9}}", "docs", "revision"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/diff", "docs", "compare"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/restore", "docs", "restore"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/propose", "docs", "propose_form"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/propose", "docs", "propose_submit"),
    Route("GET", "/groups/{name}/docs/proposals", "docs", "proposal_queue"),
    Route("GET", "/groups/{name}/docs/{doc:[0-9]{1,9}}/proposals/{proposal:[0-9]{1,9}}", "docs", "proposal_page"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/proposals/{proposal:[0-9]{1,9}}/decide", "docs", "decide"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/proposals/{proposal:[0-9]{1,9}}/revise", "docs", "revise"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/comments", "docs", "comment"),
    Route("POST", "/groups/{name}/docs/{doc:[0-9]{1,9}}/comments/{comment:[0-9]{1,9}}/resolve", "docs", "resolve"),
    Route("GET", "/posts/{id:[0-9]{1,9}}/propose-edit", "docs", "remote_propose_form"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/propose-edit", "docs", "remote_propose_submit"),
    # web/routes/projects.py
    Route("GET", "/projects", "projects", "my_projects"),
    Route("POST", r"/projects/invitations/{id:\d{1,12}}", "projects", "answer_invitation"),
    Route("GET", "/projects/new", "projects", "new_project_form"),
    Route("POST", "/projects/new", "projects", "new_project"),
    Route("GET", "/groups/{name}/project", "projects", "project_page"),
    Route("POST", "/groups/{name}/project/tasks", "projects", "add_task"),
    Route("POST", "/groups/{name}/project/invite", "projects", "invite"),
    Route("POST", "/groups/{name}/project/close", "projects", "close"),
    Route("POST", r"/tasks/{id:\d{1,12}}/state", "projects", "move_task"),
    Route("GET", "/tasks/{key:[0-9a-fA-F-]{1,64}}", "projects", "task_page"),
    Route("POST", r"/tasks/{key:\d{1,12}}/edit", "projects", "edit_task"),
    Route("POST", r"/tasks/{key:\d{1,12}}/delete", "projects", "delete_task"),
    Route("POST", r"/tasks/{key:\d{1,12}}/comments", "projects", "comment"),
    Route("POST", "/api/groups/{name}/tasks", "projects", "add_task_json"),
    Route("PUT", r"/api/tasks/{id:\d{1,12}}", "projects", "edit_task_json"),
    Route("DELETE", r"/api/tasks/{id:\d{1,12}}", "projects", "delete_task_json"),
    Route("POST", r"/api/tasks/{id:\d{1,12}}/state", "projects", "move_task_json"),
    # web/routes/lookup.py
    Route("GET", "/lookup", "lookup", "lookup_page"),
    Route("GET", "/authorize_interaction", "lookup", "authorize_interaction"),
    Route("POST", "/follow", "lookup", "follow"),
    Route("POST", "/unfollow", "lookup", "unfollow"),
    Route("GET", "/remote-follow", "lookup", "remote_follow_form"),
    Route("POST", "/remote-follow", "lookup", "remote_follow"),
    # web/routes/person_blocks.py
    Route("POST", "/block", "person_blocks", "block"),
    Route("POST", "/unblock", "person_blocks", "unblock"),
    Route("GET", "/settings/blocks", "person_blocks", "blocks_page"),
    # web/routes/timelines.py
    Route("GET", "/home", "timelines", "home_timeline"),
    Route("GET", "/local", "timelines", "local_timeline"),
    # web/routes/notifications.py
    Route("GET", "/notifications", "notifications", "notifications_page"),
    Route("POST", "/notifications/read", "notifications", "mark_read"),
    Route("POST", "/posts/{id:[0-9]{1,9}}/watch", "notifications", "watch_thread"),
    Route("POST", "/notifications/groups", "notifications", "watch_group"),
    # web/routes/reports.py
    Route("GET", "/report", "reports", "report_form"),
    Route("POST", "/report", "reports", "report_submit"),
    Route("GET", "/admin/reports", "reports", "admin_queue"),
    Route("GET", "/groups/{name}/reports", "reports", "group_queue"),
    Route("POST", "/reports/{id:[0-9]{1,9}}", "reports", "act"),
    Route("GET", "/admin/log", "reports", "admin_log"),
    Route("GET", "/groups/{name}/log", "reports", "group_log"),
    # web/routes/feeds.py
    Route("GET", "/feeds/groups/{name}.{fmt:atom|rss}", "feeds", "group_feed"),
    Route("GET", "/feeds/groups/{name}/board.{fmt:atom|rss}", "feeds", "board_feed"),
    Route("GET", "/feeds/groups/{name}/docs.{fmt:atom|rss}", "feeds", "docs_feed"),
    Route("GET", r"/feeds/posts/{id:\d{1,18}}.{fmt:atom|rss}", "feeds", "thread_feed"),
    Route("GET", "/feeds/people/{name}.{fmt:atom|rss}", "feeds", "person_feed"),
    Route("GET", "/feeds/notifications.{fmt:atom|rss}", "feeds", "notifications_feed"),
    # web/routes/feed_settings.py
    Route("GET", "/settings/feeds", "feed_settings", "feed_settings"),
    Route("POST", "/settings/feeds/regenerate", "feed_settings", "regenerate"),
    Route("POST", "/settings/feeds/revoke", "feed_settings", "revoke"),
    # web/routes/mail_settings.py
    Route("GET", "/settings/notifications", "mail_settings", "mail_settings"),
    Route("POST", "/settings/notifications", "mail_settings", "save_mail_settings"),
    Route("GET", "/mail/unsubscribe/{actor:[0-9]{1,9}}/{scope:[a-z_]{1,32}}/{token:[A-Za-z0-9_-]{1,100}}",
          "mail_settings", "unsubscribe_page"),
    Route("POST", "/mail/unsubscribe/{actor:[0-9]{1,9}}/{scope:[a-z_]{1,32}}/{token:[A-Za-z0-9_-]{1,100}}",
          "mail_settings", "unsubscribe"),
    # web/routes/recognition.py
    Route("GET", "/groups/{name}/recognition", "recognition", "recognition_page"),
    Route("GET", "/api/groups/{name}/leaderboard", "recognition", "leaderboard_json"),
    Route("GET", "/groups/{name}/recognition/team", "recognition", "team_page"),
    Route("POST", "/groups/{name}/recognition/badges", "recognition", "grant_badge"),
    Route("POST", "/groups/{name}/recognition/rewards", "recognition", "create_reward"),
    Route("POST", "/groups/{name}/recognition/rewards/{id}/withdraw", "recognition", "withdraw_reward"),
    Route("POST", "/groups/{name}/recognition/weights", "recognition", "set_weights"),
    Route("POST", "/groups/{name}/recognition/redemptions/{id}/fulfil", "recognition", "fulfil"),
    Route("POST", "/groups/{name}/recognition/redeem", "recognition", "redeem"),
    Route("GET", "/groups/{name}/recognition/export", "recognition", "export_csv"),
    Route("POST", "/posts/{id}/kudos", "recognition", "give_kudos"),
    Route("GET", "/groups/{name}/badges/{id}", "recognition", "award_document"),
    Route("GET", "/settings/recognition", "recognition", "settings_page"),
    Route("POST", "/settings/recognition", "recognition", "settings_save"),
    # web/routes/composer.py
    Route("POST", "/preview", "composer", "preview"),
    # web/routes/tags.py
    Route("GET", "/tags/{tag}", "tags", "tag_page", cacheable=True),
    Route("GET", "/feeds/tags/{tag}.{fmt:atom|rss}", "tags", "tag_feed"),
    # web/routes/microblog.py
    Route("POST", "/home", "microblog", "post_update"),
)


def install(app: web.Application) -> None:
    """Register every route of ``ROUTES`` on ``app``'s router, in order."""
    for route in ROUTES:
        handler = _handler(route)
        if route.cacheable:
            page_cache.cacheable(handler)
        getattr(app.router, f"add_{route.method.lower()}")(route.path, handler)
    inbox_first(app)


def inbox_first(app: web.Application) -> None:
    """A POST to a person's or group's inbox resolves to its route before the router's general walk.

    aiohttp's router looks first among the routes under the path's longest literal prefix, then under shorter
    ones: for ``/groups/NAME/inbox`` that is the ~50 routes under ``/groups`` (pages and forms, none of them a
    POST to that path) before ``/{kind:users|groups}/{name}/inbox`` under ``/``: ~100 µs of failed
    regular-expression matches on every delivery to a group (issue #13: accept, fifth pass). Nothing else
    answers a POST to such a path, so trying its route first changes no answer; anything it does not match
    goes the general way."""
    router = app.router
    [inbox] = [resource for resource in router.resources() if resource.canonical == "/{kind}/{name}/inbox"
               and any(route.method == "POST" for route in resource)]
    general = router.resolve

    async def resolve(request: web.Request) -> Any:
        if request.method == "POST" and request.rel_url.path_safe.endswith("/inbox"):
            match, _allowed = await inbox.resolve(request)
            if match is not None:
                return match
        return await general(request)

    router.resolve = resolve  # type: ignore[method-assign]


def _handler(route: Route) -> Handler:
    module_name = f"web.routes.{route.module}"
    module = sys.modules.get(module_name)
    if module is not None:  # already imported (web.routes.inbox): no indirection on its hot path
        direct: Handler = getattr(module, route.function)
        return direct
    target: list[Handler] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if not target:
            target.append(getattr(importlib.import_module(module_name), route.function))
        return await target[0](request)

    # Named as what it stands for: in logs, tracebacks and checks of the router's table.
    handler.__module__, handler.__name__, handler.__qualname__ = module_name, route.function, route.function
    return handler
