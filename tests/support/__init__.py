"""Test helpers: fresh databases and real server processes, in one place."""
