"""Helpers for tests that drive the API through chalice.test.Client: a multipart batch upload."""

from __future__ import annotations

from chalice.test import Client

CSV = (
    "contact_number,customer_name,plan\n"
    "+12025550123,Asha,gold\n"
    "+919876543210,Ravi,silver\n"
    "+12025550123,Asha again,gold\n"
    "12345,Broken,none\n"
)


def multipart(
    fields: dict[str, str | list[str]], file: bytes | None = None, filename: str = "batch.csv"
) -> tuple[bytes, str]:
    boundary = "----testboundary7"
    parts: list[bytes] = []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{v}\r\n'.encode())
    if file is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: text/csv\r\n\r\n".encode()
            + file
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_csv(client: Client, key: str, fields: dict, file: bytes | None, **kw):  # type: ignore[no-untyped-def]
    body, ctype = multipart(fields, file, **kw)
    return client.http.post("/batches", body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": ctype})
