"""Helpers the bench scripts share (a folder, so `make bench`'s `bench/*.py` does not run them)."""
