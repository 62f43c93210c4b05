"""A foreign ActivityPub implementation (bovine) acting against a real Made Open node."""
