"""The files of the local stack's data directory: a write-ahead log and a snapshot, both versioned.

Log: a header (magic, format version, generation), then frames of (length, CRC-32,
payload). Appends are group-committed: whoever needs its records on disk writes and
fsyncs every frame appended so far, so concurrent writers share one fsync.

Snapshot: a header (magic, format version, the log generation it includes), one frame.
It is written to a temporary file, fsynced and renamed over the old one (then the
directory is fsynced), so a crash leaves the old snapshot or the new one, never half
of one. A snapshot of generation G includes every record of logs 1..G: at start a
log of generation <= G is already inside it, a log of generation G+1 is replayed on
top of it.

A file that cannot be read is refused (`DataError`), never skipped. The one exception is
an incomplete last frame of the log: a write the crash cut short, which was never
fsynced and so never acknowledged; it is dropped with a warning (as Redis does with
`aof-load-truncated`).
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
LOG_MAGIC = b"BCWAL\n"
SNAPSHOT_MAGIC = b"BCSNP\n"
HEADER = struct.Struct(">6sHQ")  # magic, format version, generation
FRAME = struct.Struct(">II")  # payload length, CRC-32 of the payload


class DataError(Exception):
    """A file of the data directory that cannot be used; the message says which and what to do."""

    def __init__(self, path: Path, reason: str, hint: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" + (f"\n{hint}" if hint else ""))


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable (POSIX needs the directory fsynced too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _frame(payload: bytes) -> bytes:
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _header(path: Path, data: bytes, magic: bytes) -> int:
    """The generation in a file's header, after checking its magic and format version."""
    if len(data) < HEADER.size:
        raise DataError(path, "too short to be a data file (truncated or not ours)")
    found, version, generation = HEADER.unpack_from(data)
    if found != magic:
        raise DataError(path, "not a batchcall data file (wrong magic bytes)")
    if version != FORMAT_VERSION:
        raise DataError(path, f"format version {version}, this code reads version {FORMAT_VERSION}")
    return int(generation)


def write_snapshot(path: Path, generation: int, payload: bytes) -> None:
    """Atomically replace the snapshot at `path`: temporary file, fsync, rename, fsync of the directory."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(HEADER.pack(SNAPSHOT_MAGIC, FORMAT_VERSION, generation))
        out.write(_frame(payload))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)


def read_snapshot(path: Path) -> tuple[int, bytes]:
    """(generation, payload) of a snapshot; `DataError` if it is not whole and ours."""
    data = path.read_bytes()
    generation = _header(path, data, SNAPSHOT_MAGIC)
    offset = HEADER.size
    if len(data) < offset + FRAME.size:
        raise DataError(path, "truncated snapshot (no payload)")
    length, crc = FRAME.unpack_from(data, offset)
    payload = data[offset + FRAME.size :]
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise DataError(path, "damaged snapshot (length or checksum does not match)")
    return generation, payload


@dataclass
class LogContents:
    generation: int
    records: list[bytes]
    valid_bytes: int  # where the last whole frame ends
    torn_bytes: int  # an incomplete frame after it (a write the crash cut short)


def read_log(path: Path) -> LogContents:
    """Every whole record of a log; `DataError` on anything damaged but an incomplete last frame."""
    data = path.read_bytes()
    generation = _header(path, data, LOG_MAGIC)
    records: list[bytes] = []
    offset = HEADER.size
    while offset < len(data):
        if len(data) - offset < FRAME.size:
            break  # a frame header cut short
        length, crc = FRAME.unpack_from(data, offset)
        start = offset + FRAME.size
        if start + length > len(data):
            break  # a payload cut short
        payload = data[start : start + length]
        if zlib.crc32(payload) != crc:
            raise DataError(path, f"damaged record at byte {offset} (checksum does not match)")
        records.append(payload)
        offset = start + length
    return LogContents(generation, records, offset, len(data) - offset)


@dataclass
class WriteAheadLog:
    """An open log: `append` returns a sequence number, `sync` puts every record up to one on disk."""

    path: Path
    generation: int
    fd: int
    size: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: list[bytes] = field(default_factory=list)
    _appended: int = 0
    _durable: int = 0
    _flushing: bool = False
    _failed: BaseException | None = None
    _cond: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._cond = threading.Condition(self._lock)

    @classmethod
    def create(cls, path: Path, generation: int) -> WriteAheadLog:
        """A new, empty log of `generation`, replacing any at `path` atomically."""
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(HEADER.pack(LOG_MAGIC, FORMAT_VERSION, generation))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        fsync_dir(path.parent)
        return cls.open(path, generation, HEADER.size)

    @classmethod
    def open(cls, path: Path, generation: int, valid_bytes: int) -> WriteAheadLog:
        """Append to an existing log, after cutting off an incomplete last frame."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        if os.fstat(fd).st_size != valid_bytes:
            os.ftruncate(fd, valid_bytes)
            os.fsync(fd)
        return cls(path, generation, fd, valid_bytes)

    def append(self, payload: bytes) -> int:
        """Queue one record; it is on disk once `sync` (by anyone) has covered its sequence number."""
        frame = _frame(payload)
        with self._lock:
            self._pending.append(frame)
            self._appended += 1
            self.size += len(frame)
            return self._appended

    @property
    def appended(self) -> int:
        return self._appended

    def sync(self, upto: int | None = None) -> None:
        """Return once every record up to `upto` (default: all appended so far) is written and fsynced.

        Group commit: one caller writes and fsyncs everything pending while the others wait for it.
        """
        with self._lock:
            target = self._appended if upto is None else upto
            while self._durable < target:
                if self._failed is not None:
                    raise OSError(f"the data log cannot be written: {self._failed}")
                if self._flushing:
                    self._cond.wait()
                    continue
                frames, self._pending = self._pending, []
                last = self._appended
                self._flushing = True
                self._lock.release()
                try:
                    _write_all(self.fd, b"".join(frames))
                    os.fsync(self.fd)
                except BaseException as error:
                    logger.critical("the data log %s cannot be written: %s", self.path, error)
                    self._failed = error  # memory is now ahead of disk: acknowledge nothing more
                finally:
                    self._lock.acquire()
                    self._flushing = False
                    self._cond.notify_all()
                if self._failed is None:
                    self._durable = last

    def close(self) -> None:
        if self.fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self.fd)
                self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
