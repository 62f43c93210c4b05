"""OrderedCollection and OrderedCollectionPage documents (AS2 Core §5.3, §5.8)."""

from __future__ import annotations

from collections.abc import Sequence

from federation.context import AS2


PAGE_SIZE = 20


def collection_summary(
    collection_id: str,
    total: int,
    *,
    show_pages: bool = True,
    page_size: int = PAGE_SIZE,
    inline_items: Sequence[object] | None = None,
) -> dict[str, object]:
    """The collection itself; pages are linked (peers page on their own).

    ``inline_items`` also lists the items in the collection, for small collections some peers read
    without paging (Lemmy's group moderators).
    """
    out: dict[str, object] = {
        "@context": AS2,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if inline_items is not None:
        out["orderedItems"] = list(inline_items)
    if show_pages:
        out["first"] = f"{collection_id}?page=1"
        if total:
            out["last"] = f"{collection_id}?page={-(-total // page_size)}"
    return out


def collection_page(
    collection_id: str, page: int, items: Sequence[object], *, has_next: bool, total: int
) -> dict[str, object]:
    out: dict[str, object] = {
        "@context": AS2,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": list(items),
    }
    if page > 1:
        out["prev"] = f"{collection_id}?page={page - 1}"
    if has_next:
        out["next"] = f"{collection_id}?page={page + 1}"
    return out
