"""People and groups finding each other: profiles, tags, places, the people finder and full-text search."""
