"""The HTTP side of the CLI: one session with the API key, and every failure as one `CliError`."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import requests

DEFAULT_URL = "http://127.0.0.1:8000"  # `make run`'s API


class CliError(Exception):
    """A failure the user can act on: printed as one line to stderr, never as a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, whatever the server put in it
        self.exit_code = exit_code


class ApiError(CliError):
    """A 4xx/5xx from the API, carrying its own `{"message", "code", "details"}`."""

    def __init__(self, status: int, message: str, code: str | None, details: Any = None) -> None:
        self.status = status
        self.code = code
        self.details = details
        super().__init__(f"{_with_details(message, details)} ({code or 'error'}, HTTP {status})")


def _with_details(message: str, details: Any) -> str:
    """Validation errors name fields in the message and say what is wrong in `details`: show both."""
    if not isinstance(details, list):
        return message
    parts = [
        f"{d['field']}: {d['message']}"
        for d in details[:5]
        if isinstance(d, dict) and d.get("field") and isinstance(d.get("message"), str)  # some carry facts, not text
    ]
    if not parts:
        return message
    if message.startswith("invalid request:"):  # the API's validation message only lists the fields again
        message = "invalid request"
    return f"{message} — {'; '.join(parts)}"


def api_error(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ApiError(response.status_code, body["message"], body.get("code"), body.get("details"))
    text = " ".join(response.text.split())[:200] or response.reason or "no message"
    return ApiError(response.status_code, text, None)


class Client:
    """The API at `url`, authenticated with `api_key` as a Bearer token (sent to that host only)."""

    def __init__(self, url: str, api_key: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.session.headers["User-Agent"] = "batchcall-cli"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request to the API; raises `ApiError` on a 4xx/5xx, `CliError` when the API cannot be reached."""
        if "?" in path or "#" in path or any(part in (".", "..") for part in path.split("/")):
            # an id with these would reach another route (`/batches/../agents/x`): query goes in `params`
            raise CliError(f"not an id: {path!r} would leave the route it names")
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)  # a redirect may leave the API's host: never send the key there
        response = guarded(lambda: self.session.request(method, f"{self.url}{path}", **kwargs), self.url)
        if response.status_code >= 400:
            raise api_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise CliError(f"the API answered {method} {path} with something that is not JSON") from None


def guarded(call: Any, where: str) -> requests.Response:
    """Run one HTTP call, turning connection problems and timeouts into a one-line `CliError`."""
    try:
        response: requests.Response = call()
    except requests.Timeout:
        raise CliError(f"{where} did not answer in time") from None
    except requests.ConnectionError as exc:
        raise CliError(f"cannot reach {where}: {_reason(exc)}") from None
    except requests.RequestException as exc:
        raise CliError(f"request to {where} failed: {exc}") from None
    return response


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "nodename nor servname", "timed out"):
        if marker in text:
            return marker.lower()
    return text.split(": ")[-1].rstrip("'\")") or "connection error"


class MultipartFile:
    """A multipart/form-data body streamed from disk (fields first, the file last, as S3 wants),
    with a known length and a callback per chunk, so a 200 MB upload needs no 200 MB of memory."""

    CHUNK = 256 * 1024

    def __init__(self, fields: dict[str, str], path: Path, on_read: Any = None) -> None:
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        self._parts: list[bytes | Path] = [head, path, f"\r\n--{self.boundary}--\r\n".encode()]
        self._length = len(head) + path.stat().st_size + len(self._parts[2])  # type: ignore[arg-type]
        self._on_read = on_read
        self._chunks = self._iterate()
        self._buffer = b""

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def _iterate(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
                continue
            with part.open("rb") as file:
                while chunk := file.read(self.CHUNK):
                    if self._on_read is not None:
                        self._on_read(len(chunk))
                    yield chunk

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def post_to_storage(url: str, fields: dict[str, str], path: Path, on_read: Any, timeout: float) -> None:
    """POST the file to a presigned S3 URL: no API key goes there; its policy fields sign the request."""
    body = MultipartFile(fields, path, on_read)
    response = guarded(
        lambda: requests.post(
            url,
            data=body,
            headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
            timeout=timeout,
        ),
        "the storage upload URL",
    )
    if response.status_code >= 300:
        raise CliError(f"the storage service refused the upload: {_s3_message(response)} (HTTP {response.status_code})")


def _s3_message(response: requests.Response) -> str:
    text = response.text
    start, end = text.find("<Message>"), text.find("</Message>")
    if start >= 0 and end > start:
        return text[start + len("<Message>") : end]
    return " ".join(text.split())[:200] or response.reason or "no message"


def write_stream(response: requests.Response, out: IO[bytes]) -> int:
    """Copy a streamed body to `out`; returns the bytes written."""
    written = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        out.write(chunk)
        written += len(chunk)
    return written


def env_default(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False)
