"""The web dashboard's static files (served by chalicelib/api/dashboard.py; a client of the public API only)."""
