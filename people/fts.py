"""Full-text match subqueries, one shape on both databases: ``(id, rank)`` rows, lower rank = better.

SQLite reads the FTS5 tables (BM25 ranks are negative, best first); PostgreSQL the generated
``search_vector`` columns (``ts_rank`` negated to sort the same way). The words come from
``people.index.query_words``: letters and digits only, so nothing the user types is query syntax; all
words must match (AND), with stemming (porter on SQLite, the ``english`` configuration on PostgreSQL).

In profiles a word with a long enough stem matches it as a beginning (people.word_forms.matches_longer):
"carpenter" (stem ``carpent``) finds "carpentry" (``carpentri``), and a noun in -ry the other way round:
"carpentry" is searched as ``carpent`` (people.word_forms.search_beginning). Both backends stem a prefix
term before matching it (FTS5 ``"carpenter"*``, PostgreSQL ``carpenter:*``), so the index and the query
agree.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, Subquery, text
from sqlalchemy.ext.asyncio import AsyncSession

from people import word_forms


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _fts5_query(words: list[str], prefixes: bool = False) -> str:
    return " ".join(_fts5_term(word) if prefixes else f'"{word}"' for word in words)


def _fts5_term(word: str) -> str:
    beginning = word_forms.search_beginning(word)
    return f'"{beginning}"*' if beginning else f'"{word}"'


def _tsquery(words: list[str]) -> str:
    """``to_tsquery`` text for all ``words``, beginnings marked (letters, digits and underscores only: never
    its operators)."""
    return " & ".join(f"{beginning}:*" if (beginning := word_forms.search_beginning(word)) else word
                      for word in words)


def profile_matches(session: AsyncSession, words: list[str], name: str = "profile_match") -> Subquery:
    if dialect_of(session) == "sqlite":
        query = text(
            "SELECT rowid AS id, bm25(profiles_fts) AS rank FROM profiles_fts WHERE profiles_fts MATCH :profile_q"
        ).bindparams(profile_q=_fts5_query(words, prefixes=True))
    else:
        query = text(
            "SELECT p.id AS id, -ts_rank(p.search_vector, q.query) AS rank "
            "FROM profiles p, to_tsquery('english', :profile_q) AS q(query) WHERE p.search_vector @@ q.query"
        ).bindparams(profile_q=_tsquery(words))
    return query.columns(id=Integer, rank=Float).subquery(name)


def object_matches(session: AsyncSession, words: list[str], name: str = "object_match") -> Subquery:
    if dialect_of(session) == "sqlite":
        # Titles weigh five times the body, as the PostgreSQL column weighs A over B.
        query = text(
            "SELECT rowid AS id, bm25(objects_fts, 5.0, 1.0) AS rank FROM objects_fts "
            "WHERE objects_fts MATCH :object_q"
        ).bindparams(object_q=_fts5_query(words))
    else:
        query = text(
            "SELECT o.id AS id, -ts_rank(o.search_vector, q.query) AS rank "
            "FROM objects o, plainto_tsquery('english', :object_q) AS q(query) WHERE o.search_vector @@ q.query"
        ).bindparams(object_q=" ".join(words))
    return query.columns(id=Integer, rank=Float).subquery(name)
