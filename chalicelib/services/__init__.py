"""Use cases: what the API and the workers call. No HTTP, no event shapes here."""
