"""An API key's tenant and label are names: bounded, and free of control characters."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.services.auth import create_api_key


class Keys:
    def __init__(self) -> None:
        self.put_calls: list[tuple[Any, ...]] = []

    def put(self, *args: Any) -> None:
        self.put_calls.append(args)


@pytest.mark.parametrize(
    ("tenant", "label"), [("acme", "ci\x00"), ("acme", "two\nlines"), ("acme", "x" * 201), ("", "ci"), ("a\tb", "")]
)
def test_bad_tenants_and_labels_are_refused_before_anything_is_stored(tenant: str, label: str) -> None:
    keys = Keys()
    with pytest.raises(ValueError):
        create_api_key(keys, tenant, label)  # type: ignore[arg-type]
    assert keys.put_calls == []


def test_a_plain_label_is_stored() -> None:
    keys = Keys()
    assert create_api_key(keys, "acme", "ci runner").startswith("bk_")  # type: ignore[arg-type]
    assert keys.put_calls[0][1:] == ("acme", "ci runner")
