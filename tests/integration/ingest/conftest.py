"""The webhook receiver fixtures, so bad uploads can be shown to announce their failure."""

from tests.support.webhooks import hooks, receiver

__all__ = ["hooks", "receiver"]
