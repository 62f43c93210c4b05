"""Pure ActivityPub protocol code: no database, nothing of ours imported."""
