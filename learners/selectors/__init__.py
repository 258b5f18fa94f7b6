"""Reads, one module per area: sessions.py here; import from the module that holds the function."""
