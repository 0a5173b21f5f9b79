"""The emulator's state on disk: nothing it acknowledged is lost by a Ctrl-C, a crash or kill -9.

What is persisted: moto's DynamoDB, S3, SQS and EventBridge Scheduler (other services, such as
SSM, stay in memory). How, in two kinds of log record (`local.wal` has the files' format):

- Requests (`local.persist_http`): a mutating DynamoDB, S3, Scheduler or SQS queue-level request
  that succeeded, as it came, replayed through moto at start.
- Messages (`local.persist_sqs`): an SQS message each time it changes, and its deletion.
  At start, messages that were in flight are made visible at once (`release_in_flight`: their
  consumers died with the process).

An answer leaves only after every record appended so far is fsynced (group commit in
`WriteAheadLog.sync`): an acknowledged write, and anything a reader was shown, is on disk.

Snapshots: the backends are pickled (SQS's queue holds a `threading.Condition`, pickled as a
fresh one) under `MUTATE`, so no write is half applied, when the log outgrows the last
snapshot and at a clean stop; the log then starts a new generation.
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import io
import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

from .persist_core import MUTATE, SERVICES, backend_dict, set_recorder
from .persist_http import DurableApp, RequestReplay, notifications_off
from .persist_sqs import MessageReplay, install_hooks, release_in_flight
from .wal import HEADER, DataError, LogContents, WriteAheadLog, read_log, read_snapshot, write_snapshot

logger = logging.getLogger(__name__)

__all__ = ["DataError", "DurableApp", "Store", "Summary", "status_path", "write_json"]

SNAPSHOT = "snapshot.bin"
LOG = "wal.log"
LOCK = "lock"
LOCK_WAIT_S = 5.0  # for the emulator of a killed stack to exit (it does as soon as its stdin ends)
# The log is folded into a new snapshot once past both: compaction costs in proportion to the state,
# so it comes after a log of comparable size (amortised), and restart replays at most that much.
MIN_COMPACT_BYTES = 32 * 1024 * 1024
COMPACT_RATIO = 0.5  # of the last snapshot's size


def fresh_hint(data_dir: Path) -> str:
    return (
        f"To start fresh, move {data_dir} away (keep it for a look) or run `make run FRESH=1`"
        f" (`python -m local --fresh`), which deletes it. Nothing was changed."
    )


# -- snapshots ------------------------------------------------------------------------------------


def _fresh_lock(kind: Callable[[], Any]) -> Callable[[Any], tuple[Any, tuple[()]]]:
    return lambda _: (kind, ())


def _limited_size_dict(items: dict[str, Any]) -> Any:
    """A DynamoDB item's attributes, rebuilt without the size check each insert makes (quadratic)."""
    attributes = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attributes, items)
    return attributes


def _dispatch_table() -> dict[Any, Any]:
    table = copyreg.dispatch_table.copy()
    table[threading.Condition] = _fresh_lock(threading.Condition)
    table[type(threading.Lock())] = _fresh_lock(threading.Lock)
    table[type(threading.RLock())] = _fresh_lock(threading.RLock)
    # Unpickled as a dict subclass, every attribute would go through its __setitem__, which sums the
    # sizes of all the others: 10 s for 30,000 items instead of 1.
    table[LimitedSizeDict] = lambda attributes: (_limited_size_dict, (dict(attributes),))
    return table


_DISPATCH = _dispatch_table()


def _dumps(value: Any) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(value)
    return out.getvalue()


def capture() -> dict[str, Any]:
    """Every persisted backend, by service and (account, region); call with MUTATE held."""
    return {
        service: {
            (account, region): backend
            for account, regions in backend_dict(service).items()
            for region, backend in regions.items()
        }
        for service in SERVICES
    }


def reset() -> None:
    """Empty every persisted backend: the state is the data directory's, not what this process held."""
    for service in SERVICES:
        for account in backend_dict(service).values():
            account.reset()
    backend_dict("s3").bucket_accounts.clear()


def install(state: dict[str, Any]) -> None:
    for service, backends in state.items():
        accounts = backend_dict(service)
        for (account, region), backend in backends.items():
            dict.__setitem__(accounts[account], region, backend)
    # S3 finds a bucket's owner in an index beside the backends, which must name the restored ones.
    index = backend_dict("s3").bucket_accounts
    for (account, _), backend in state.get("s3", {}).items():
        for name, bucket in backend.buckets.items():
            index[name] = (bucket.partition, account)


@dataclass
class Summary:
    """What the data directory held at start, for the banner."""

    items: dict[str, int] = field(default_factory=dict)  # table name -> item count
    messages: int = 0  # queued SQS messages, in flight or delayed included
    records: int = 0  # log records replayed
    restored: bool = False
    released: int = 0  # messages in flight at the stop, visible again at once


def summarize(records: int, restored: bool) -> Summary:
    summary = Summary(records=records, restored=restored)
    for regions in backend_dict("dynamodb").values():
        for backend in regions.values():
            for name, table in backend.tables.items():
                summary.items[name] = summary.items.get(name, 0) + len(table)
    for regions in backend_dict("sqs").values():
        for backend in regions.values():
            summary.messages += sum(len(queue._messages) for queue in backend.queues.values())
    return summary


# -- replay ---------------------------------------------------------------------------------------


class _Replay:
    """Applies log records in order: requests through moto, SQS messages set directly."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.requests = RequestReplay(app)
        self.messages = MessageReplay()

    @property
    def failed(self) -> int:
        return self.requests.failed + self.messages.failed

    def apply(self, entry: tuple[Any, ...]) -> None:
        if entry[0] == "req":
            self.requests.apply(*entry[1:])
        else:
            self.messages.apply(entry)

    def finish(self) -> None:
        self.messages.finish()


# -- the store ------------------------------------------------------------------------------------


class Store:
    """A data directory, opened: restored into moto's backends, then logging every change."""

    def __init__(self, data_dir: Path, compact_bytes: int = MIN_COMPACT_BYTES) -> None:
        self.data_dir = data_dir
        self.min_compact_bytes = compact_bytes
        self.log: WriteAheadLog | None = None
        self.snapshot_bytes = 0
        self.summary = Summary()
        self._lock_fd = -1
        self._compacting = threading.Lock()
        self._compact_wanted = threading.Event()
        self._closing = threading.Event()
        self._compactor: threading.Thread | None = None

    @property
    def snapshot_path(self) -> Path:
        return self.data_dir / SNAPSHOT

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG

    def open(self, app: Callable[..., Any], fresh: bool = False) -> Store:
        """Lock the directory, restore what it holds into moto (via `app` for requests), start logging."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            if fresh:
                self._wipe()
            install_hooks()
            generation, replayed, restored = self._restore(app)
            if self.log is None:
                self.log = WriteAheadLog.create(self.log_path, generation + 1)
            self.summary = summarize(replayed, restored)
            self.summary.released = release_in_flight()
        except BaseException:
            self._unlock()
            raise
        set_recorder(self.append)
        self._compactor = threading.Thread(target=self._compact_loop, name="data-compactor", daemon=True)
        self._compactor.start()
        return self

    def _lock(self) -> None:
        """Refuse a directory another stack holds; wait a moment first, since the emulator of a stack just
        killed (kill -9) exits when it notices, and a restart may come sooner."""
        fd = os.open(self.data_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise DataError(self.data_dir, "another local stack is using this data directory") from None
                time.sleep(0.1)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = -1

    def _wipe(self) -> None:
        for name in (SNAPSHOT, LOG, SNAPSHOT + ".tmp", LOG + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / name).unlink()
        logger.warning("starting fresh: the data in %s was deleted", self.data_dir)

    def _restore(self, app: Callable[..., Any]) -> tuple[int, int, bool]:
        """Load the snapshot, replay the log on it; (generation, records replayed, anything restored)."""
        hint = fresh_hint(self.data_dir)
        generation = 0
        restored = False
        reset()
        if self.snapshot_path.exists():
            try:
                generation, payload = read_snapshot(self.snapshot_path)
                saved = pickle.loads(payload)
            except DataError as error:
                raise DataError(error.path, error.reason, hint) from None
            except Exception as error:
                raise DataError(self.snapshot_path, f"cannot be read: {type(error).__name__}: {error}", hint) from None
            if saved.get("moto") != moto.__version__:
                reason = f"written with moto {saved.get('moto')}, this is moto {moto.__version__}"
                raise DataError(self.snapshot_path, reason, hint + f" Or install moto=={saved.get('moto')}.")
            install(saved["state"])
            self.snapshot_bytes = len(payload)
            restored = True
        if not self.log_path.exists():
            return generation, 0, restored
        try:
            contents = read_log(self.log_path)
        except DataError as error:
            raise DataError(error.path, error.reason, hint) from None
        if contents.generation <= generation:  # a crash between a snapshot and its new log: included
            return generation, 0, restored
        if contents.generation != generation + 1:
            reason = f"log generation {contents.generation} does not follow the snapshot's ({generation})"
            raise DataError(self.log_path, reason, hint)
        replayed = self._replay(app, contents, hint)
        self.log = WriteAheadLog.open(self.log_path, contents.generation, contents.valid_bytes)
        return generation, replayed, restored or replayed > 0

    def _replay(self, app: Callable[..., Any], contents: LogContents, hint: str) -> int:
        if contents.torn_bytes:
            logger.warning(
                "%s: an incomplete last record (%d bytes, a write the stop cut short, never acknowledged) is dropped",
                self.log_path,
                contents.torn_bytes,
            )
        replay = _Replay(app)
        with notifications_off():
            for number, payload in enumerate(contents.records, start=1):
                try:
                    record = pickle.loads(payload)
                except Exception as error:
                    reason = f"record {number} cannot be read: {type(error).__name__}: {error}"
                    raise DataError(self.log_path, reason, hint) from None
                replay.apply(record)
        replay.finish()
        if replay.failed:
            logger.warning("%s: %d of %d records did not apply again", self.log_path, replay.failed, number)
        return len(contents.records)

    # -- while running

    def append(self, record: tuple[Any, ...]) -> None:
        assert self.log is not None
        self.log.append(_dumps(record))
        if self.log.size > max(self.min_compact_bytes, self.snapshot_bytes * COMPACT_RATIO):
            self._compact_wanted.set()

    def sync(self) -> None:
        if self.log is not None:
            self.log.sync()

    def compact(self) -> None:
        """Snapshot every backend and start a new, empty log generation (blocks changes meanwhile)."""
        with self._compacting, MUTATE:
            log = self.log
            assert log is not None
            log.sync()
            started = time.monotonic()
            payload = _dumps({"moto": moto.__version__, "saved_at": time.time(), "state": capture()})
            write_snapshot(self.snapshot_path, log.generation, payload)
            self.log = WriteAheadLog.create(self.log_path, log.generation + 1)
            log.close()
            self.snapshot_bytes = len(payload)
            logger.info(
                "data snapshot: %.1f MB in %.2f s (%s)", len(payload) / 1e6, time.monotonic() - started, self.data_dir
            )

    def _compact_loop(self) -> None:
        while True:
            self._compact_wanted.wait()
            if self._closing.is_set():
                return
            self._compact_wanted.clear()
            try:
                self.compact()
            except Exception:
                logger.exception("data snapshot failed; the log keeps growing")

    def close(self, snapshot: bool = True) -> None:
        """A clean stop: snapshot (so the next start replays nothing), close the log, unlock."""
        self._closing.set()
        self._compact_wanted.set()
        if self._compactor is not None:
            self._compactor.join()
        try:
            if snapshot and self.log is not None and self.log.size > HEADER.size:
                self.compact()
        finally:
            set_recorder(None)
            if self.log is not None:
                self.log.close()
            self._unlock()


def status_path(data_dir: Path) -> Path:
    return data_dir / "stack.json"


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Atomically (temporary file, rename): a reader sees the old file or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
