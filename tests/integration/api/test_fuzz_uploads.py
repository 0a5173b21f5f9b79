"""Fuzz-ish: whatever file arrives, through either door, the answer is a 201/400 (or a finished batch), never a 5xx."""

from __future__ import annotations

import json

from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import aws
from chalicelib.domain.contact_reader import MAX_CELL_CHARS
from chalicelib.services.container import Dependencies
from tests.support.api import post_csv
from tests.support.pump import Pump
from tests.support.uploads import batch_of, presign

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
PIECES = st.sampled_from(
    [b",", b";", b"\t", b'"', b"\n", b"\r\n", b"+1202555", b"0123", b"9", b"phone", b"contact_number", b"name",
     b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\x01", b"\xe9", b"=cmd", b"x" * (MAX_CELL_CHARS + 1), b"e+11", b"'"]
)  # fmt: skip
FILES = st.one_of(
    st.binary(max_size=400),
    st.lists(PIECES, max_size=60).map(b"".join),
    st.lists(PIECES, max_size=60).map(lambda parts: b"phone,name\n" + b"".join(parts)),
)
CLEAR_CODES = {
    "empty_file",
    "no_rows",
    "no_number_column",
    "no_valid_contacts",
    "not_text",
    "too_many_columns",
    "invalid_header",
}


@FUZZ
@given(data=FILES)
def test_any_file_posted_to_batches_is_a_201_or_a_400_with_a_clear_code(
    client: Client, tenant: tuple[str, str], data: bytes
) -> None:
    key, agent_id = tenant
    response = post_csv(client, key, {"agent_id": agent_id}, data)
    body = json.loads(response.body)
    assert response.status_code in (201, 400), (response.status_code, body)
    if response.status_code == 400:
        assert body["code"] in CLEAR_CODES and body["message"], body
    else:
        assert body["total_contacts"] == body["valid_contacts"] + body["invalid_contacts"] + body["duplicate_contacts"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=FILES, content_type=st.sampled_from(["text/csv", "", "application/pdf", "text/plain"]))
def test_any_presigned_upload_ends_created_or_failed_with_a_reason(
    client: Client, tenant: tuple[str, str], deps: Dependencies, pump: Pump, data: bytes, content_type: str
) -> None:
    key, agent_id = tenant
    upload = presign(client, key, {"agent_id": agent_id})
    aws.s3().put_object(
        Bucket=deps.blobs.bucket, Key=upload["upload"]["fields"]["key"], Body=data, ContentType=content_type
    )
    pump.run()
    batch = batch_of(client, key, upload["batch_id"])
    assert batch["status"] in ("created", "failed")
    if batch["status"] == "failed":
        assert batch["failure_reason"]["code"] in CLEAR_CODES | {"unsupported_content_type"}
