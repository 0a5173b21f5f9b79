"""The whole-input error: its code, message and details survive the trip between processes."""

from __future__ import annotations

import pickle

from chalicelib.domain.contacts_error import ContactsError


def test_contacts_error_carries_code_and_message() -> None:
    error = ContactsError("no_rows", "nothing here")
    assert (error.code, error.message, error.details) == ("no_rows", "nothing here", [])
    assert "nothing here" in str(error)


def test_contacts_error_survives_pickling_with_its_details() -> None:
    # Process pools (the bench, workers) send errors across processes
    error = ContactsError("no_valid_contacts", "none", [{"row": 2, "reason": "invalid_number"}])
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.details) == (error.code, error.message, error.details)
