"""Which failures of a Twilio request may have created the call (then never sent again) and which cannot."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from chalicelib.providers.twilio import _maybe_placed


@pytest.mark.parametrize(
    ("error", "maybe"),
    [
        (requests.ReadTimeout("read timed out"), True),  # sent; the answer never came
        (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())), True),
        (requests.exceptions.ChunkedEncodingError("cut mid-answer"), True),
        (requests.ConnectTimeout("connect timed out"), False),  # nothing sent
        (requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused"))), False),  # type: ignore[arg-type]
        (requests.exceptions.InvalidURL("bad"), False),
    ],
    ids=["read-timeout", "reset-mid-answer", "chunked", "connect-timeout", "refused", "invalid-url"],
)
def test_only_a_request_that_was_sent_may_have_placed_the_call(error: Exception, maybe: bool) -> None:
    assert _maybe_placed(error) is maybe
