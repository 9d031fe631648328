"""Fetch U.S. advanced technology trade from the Census API, land it, and load it into DuckDB."""
