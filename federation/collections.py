"""Collections and their pages (AS2 Core §5.3, §5.8): ordered ones, and the unordered ``replies``.

``replies`` follows Mastodon's shape (app/serializers/activitypub/note_serializer.rb): a ``Collection``
embedded in the post, its ``first`` page inline as a ``CollectionPage`` with ``items``, ``partOf`` and
``next``. GoToSocial's thread walker (internal/federation/dereferencing/thread.go) reads exactly that
-- an embedded Collection whose ``first`` is a CollectionPage -- and skips a bare URL; Mastodon's
ActivityPub::FetchRepliesService takes the embedded first page before fetching any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from federation.context import AS2


PAGE_SIZE = 20


def _kinds(ordered: bool) -> tuple[str, str, str]:
    """(collection type, page type, items key)."""
    if ordered:
        return "OrderedCollection", "OrderedCollectionPage", "orderedItems"
    return "Collection", "CollectionPage", "items"


def collection_summary(
    collection_id: str,
    total: int,
    *,
    show_pages: bool = True,
    page_size: int = PAGE_SIZE,
    inline_items: Sequence[object] | None = None,
    ordered: bool = True,
) -> dict[str, object]:
    """The collection itself; pages are linked (peers page on their own).

    ``inline_items`` also lists the items in the collection, for small collections some peers read
    without paging (Lemmy's group moderators).
    """
    kind, _, items_key = _kinds(ordered)
    out: dict[str, object] = {"@context": AS2, "id": collection_id, "type": kind, "totalItems": total}
    if inline_items is not None:
        out[items_key] = list(inline_items)
    if show_pages:
        out["first"] = f"{collection_id}?page=1"
        if total:
            out["last"] = f"{collection_id}?page={-(-total // page_size)}"
    return out


def collection_page(
    collection_id: str, page: int, items: Sequence[object], *, has_next: bool, total: int, ordered: bool = True
) -> dict[str, object]:
    _, kind, items_key = _kinds(ordered)
    out: dict[str, object] = {
        "@context": AS2,
        "id": f"{collection_id}?page={page}",
        "type": kind,
        "partOf": collection_id,
        "totalItems": total,
        items_key: list(items),
    }
    if page > 1:
        out["prev"] = f"{collection_id}?page={page - 1}"
    if has_next:
        out["next"] = f"{collection_id}?page={page + 1}"
    return out


def replies_collection(
    collection_id: str, total: int, first_items: Sequence[object], *, has_next: bool
) -> dict[str, object]:
    """A post's ``replies``, embedded in the post: the collection with its first page inline (module
    text). Later pages are the ones ``collection_page(..., ordered=False)`` serves at ``?page=N``."""
    out = collection_summary(collection_id, total, ordered=False)
    first = collection_page(collection_id, 1, first_items, has_next=has_next, total=total, ordered=False)
    for embedded in (out, first):
        del embedded["@context"]  # the post's own @context covers what it embeds
    out["first"] = first
    return out
