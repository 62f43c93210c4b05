"""The look of notification mail: a plain-text part and an HTML part saying the same, in the node's
branding (its name, accent colour and logo from the admin's settings, actors.node_settings), with the
links to the mail settings and to one-click unsubscribe at the foot of each.

HTML mail clients ignore stylesheets and strip most CSS, so the HTML is a single table-free column with
inline styles only; every value that comes from people (names, titles, excerpts) is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from actors import node_settings

SETTINGS_PATH = "/settings/notifications"


@dataclass(frozen=True)
class Branding:
    name: str
    base: str  # scheme://domain of the node
    accent: str = node_settings.DEFAULT_ACCENT
    logo: str | None = None  # media file name

    @property
    def logo_url(self) -> str | None:
        return f"{self.base}/media/{self.logo}" if self.logo else None


@dataclass(frozen=True)
class Line:
    """One thing that happened: ``text`` (plain), a link, and an optional quote or detail."""

    text: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str


def render(branding: Branding, title: str, sections: list[Section], *, why: str, unsubscribe_url: str) -> Rendered:
    """The two parts of one mail. ``why``: a sentence saying why it came (which setting)."""
    settings_url = branding.base + SETTINGS_PATH
    text = [title, "=" * min(len(title), 72), ""]
    for section in sections:
        if section.heading:
            text += [section.heading, "-" * min(len(section.heading), 72)]
        for line in section.lines:
            text.append(f"* {line.text}")
            if line.detail:
                text.append(f"  > {line.detail}")
            text.append(f"  {line.url}")
        text.append("")
    text += ["--", f"{branding.name} ({branding.base})", why,
             f"Choose which mail you get: {settings_url}", f"Unsubscribe from these mails: {unsubscribe_url}", ""]

    accent, on_accent = branding.accent, node_settings.text_on(branding.accent)
    link = node_settings.readable_on_white(branding.accent)
    logo = (f'<img src="{escape(branding.logo_url)}" alt="" width="32" height="32" '
            f'style="vertical-align:middle;margin-right:8px">' if branding.logo_url else "")
    body = []
    for section in sections:
        if section.heading:
            body.append(f'<h2 style="font-size:17px;margin:24px 0 8px">{escape(section.heading)}</h2>')
        body.append('<ul style="padding-left:20px;margin:0">')
        for line in section.lines:
            detail = (f'<br><span style="color:#444">{escape(line.detail)}</span>' if line.detail else "")
            body.append(f'<li style="margin:0 0 10px"><a href="{escape(line.url)}" style="color:{link}">'
                        f"{escape(line.text)}</a>{detail}</li>")
        body.append("</ul>")
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        '<body style="margin:0;padding:0;background:#f4f4f4;font-family:system-ui,sans-serif;color:#111">'
        '<div style="max-width:600px;margin:0 auto;background:#ffffff">'
        f'<div style="background:{accent};color:{on_accent};padding:12px 20px;font-size:18px;font-weight:bold">'
        f"{logo}{escape(branding.name)}</div>"
        f'<div style="padding:16px 20px"><h1 style="font-size:20px;margin:0 0 12px">{escape(title)}</h1>'
        + "".join(body) +
        '</div><div style="padding:12px 20px;border-top:1px solid #ddd;font-size:13px;color:#444">'
        f"<p>{escape(why)}</p>"
        f'<p><a href="{escape(settings_url)}" style="color:{link}">Choose which mail you get</a> · '
        f'<a href="{escape(unsubscribe_url)}" style="color:{link}">Unsubscribe from these mails</a></p>'
        "</div></div></body></html>"
    )
    return Rendered(text="\n".join(text), html=html)
