"""Pure business logic: no AWS, no web framework, so it is cheap to test."""
