"""Request bodies as fields and an optional file, whatever the content type (multipart via `multipart`)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import multipart

from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


@dataclass
class FormFile:
    name: str | None
    content: bytes


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, FormFile] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None


def parse_form(content_type_header: str, body: bytes, max_bytes: int, upload_hint: str) -> Form:
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"the body is {len(body)} bytes; this route takes at most {max_bytes}. {upload_hint}",
            code="payload_too_large",
        )
    content_type, options = multipart.parse_options_header(content_type_header or "")
    content_type = content_type.lower()
    if content_type == "multipart/form-data":
        return _multipart(body, options.get("boundary", ""), max_bytes)
    if content_type == "application/x-www-form-urlencoded":
        try:
            return Form(fields=parse_qs(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadRequest("the form body is not UTF-8", code="invalid_form") from None
    raise UnsupportedMediaType(
        f"unsupported content type {content_type or '(none)'}: send multipart/form-data or application/json",
    )


def _multipart(body: bytes, boundary: str, max_bytes: int) -> Form:
    if not boundary:
        raise BadRequest("multipart/form-data without a boundary", code="invalid_multipart")
    form = Form()
    try:
        parser = multipart.MultipartParser(
            io.BytesIO(body),
            boundary,
            content_length=len(body),
            part_limit=200,
            memory_limit=max_bytes + 1024,
            spool_limit=max_bytes + 1024,
            disk_limit=max_bytes + 1024,
        )
        for part in parser:
            if part.filename is not None:
                form.files[part.name] = FormFile(part.filename, part.raw)
            else:
                form.fields.setdefault(part.name, []).append(part.value)
    except (multipart.MultipartError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed multipart body: {exc}", code="invalid_multipart") from None
    return form


def fields_as_json(form: Form, repeatable: tuple[str, ...]) -> dict[str, object]:
    """Form fields as the JSON object the same route accepts: repeatable fields stay lists."""
    out: dict[str, object] = {}
    for name, values in form.fields.items():
        out[name] = values if name in repeatable else values[-1]
    return out
