"""Living documents of a group (issue #18): pages with a title and a Markdown body, every save a
revision, diffs, three-way merges of concurrent saves, proposed edits the team reviews, and comments.

(Not to be confused with the ``documents.py`` modules elsewhere, which build AS2 JSON documents.)
Pure text work is in ``text`` (limits, sections, rendering), ``diff`` and ``merge``; the rows and rules in
``pages``, ``proposals`` and ``comments``. inbox_outbox.services.docs writes the activities.
"""
