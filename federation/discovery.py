"""WebFinger (RFC 7033), host-meta (RFC 6415) and NodeInfo 2.0/2.1 documents."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from federation.context import AS2_MEDIA_TYPE

NODEINFO_SCHEMAS = {
    "2.0": "http://nodeinfo.diaspora.software/ns/schema/2.0",
    "2.1": "http://nodeinfo.diaspora.software/ns/schema/2.1",
}
SOFTWARE_NAME = "madeopen"  # NodeInfo: lower-case a-z0-9 and dashes only
SOFTWARE_REPOSITORY = "https://github.com/madeopen/madeopen"


class BadResource(ValueError):
    """The WebFinger ``resource`` cannot be understood (400)."""


@dataclass(frozen=True)
class Acct:
    user: str
    host: str


def parse_resource(resource: str, local_domain: str) -> Acct | str:
    """``acct:user@host`` (also ``user@host`` and Lemmy's ``!group@host``) -> Acct; an http(s) URL -> itself."""
    text = resource.strip()
    if not text:
        raise BadResource("resource is empty")
    if text.startswith(("http://", "https://")):
        return text
    if text.startswith("acct:"):
        text = text[5:]
    text = text.lstrip("@!")
    user, sep, host = text.rpartition("@")
    if not sep or not user or not host or "@" in user or "/" in host:
        raise BadResource(f"resource {resource!r} is not acct:user@host or an http(s) URL")
    return Acct(user=user, host=host.lower())


def webfinger_document(acct: str, actor_id: str, profile_url: str, subscribe_template: str) -> dict[str, object]:
    return {
        "subject": f"acct:{acct}",
        "aliases": [actor_id] if actor_id == profile_url else [actor_id, profile_url],
        "links": [
            {"rel": "self", "type": AS2_MEDIA_TYPE, "href": actor_id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile_url},
            {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": subscribe_template},
        ],
    }


SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


def actor_link(jrd: object) -> str | None:
    """The ActivityPub actor a WebFinger document names (its ``self`` link of a JSON type), or None."""
    links = jrd.get("links") if isinstance(jrd, dict) else None
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("href"), str)
            and "json" in str(link.get("type", "application/activity+json"))
        ):
            return link["href"]
    return None


def subscribe_template(jrd: object) -> str | None:
    """The remote-follow ("authorize interaction") URL template of a WebFinger document, with its
    ``{uri}`` placeholder (OStatus subscribe, as Mastodon, Pleroma, Misskey and we serve it), or None."""
    links = jrd.get("links") if isinstance(jrd, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == SUBSCRIBE_REL:
            template = link.get("template")
            if isinstance(template, str) and "{uri}" in template and template.startswith(("https://", "http://")):
                return template
    return None


def host_meta_xml(base_url: str) -> str:
    from xml.sax.saxutils import escape  # here: xml.sax is 0.2 MB resident for one GET (issue #13)

    template = escape(f"{base_url}/.well-known/webfinger?resource={{uri}}", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )


def nodeinfo_links(base_url: str) -> dict[str, object]:
    return {
        "links": [
            {"rel": schema, "href": f"{base_url}/nodeinfo/{version}"}
            for version, schema in NODEINFO_SCHEMAS.items()
        ]
    }


@dataclass(frozen=True)
class Usage:
    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int


def nodeinfo_document(
    version: str, software_version: str, usage: Usage, open_registrations: bool, node_name: str
) -> dict[str, object]:
    if version not in NODEINFO_SCHEMAS:
        raise KeyError(version)
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":
        software["repository"] = SOFTWARE_REPOSITORY
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {"nodeName": node_name},
    }


def url_host(url: str) -> str:
    return urlsplit(url).netloc.lower()
