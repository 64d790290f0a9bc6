"""One module per benchmark scenario; each returns plain dicts for the report."""
