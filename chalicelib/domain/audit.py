"""An audit log entry: one change an API key made (services/audit.py records it, store/audit.py keeps it)."""

from __future__ import annotations

from .records import Record


class AuditEntry(Record):
    tenant_id: str
    entry_key: str  # `<at>#<entry_id>`: the log reads in time order
    entry_id: str
    action: str
    target: str  # `<kind>:<id>`, or a kind alone (`webhook_secret`)
    key_label: str = ""
    request_id: str = ""
    at: str = ""
