"""Service tests that need a webhook URL: the real receiver on 127.0.0.1 (tests/support/webhooks.py) as fixtures."""

from tests.support.webhooks import hooks, receiver

__all__ = ["hooks", "receiver"]
