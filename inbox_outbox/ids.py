"""Ids of what this node creates: random, opaque and permanent."""

from __future__ import annotations

import uuid

from actors.urls import Urls


def new_activity_id(urls: Urls) -> str:
    return f"{urls.base}/activities/{uuid.uuid4()}"


def new_object_id(urls: Urls) -> str:
    return f"{urls.base}/objects/{uuid.uuid4()}"


def is_local(urls: Urls, uri: str) -> bool:
    return uri == urls.base or uri.startswith(urls.base + "/")
