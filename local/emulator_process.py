"""The emulator in a process of its own, so moto and the service do not share one GIL.

moto's server is pure Python: in the service's process it competed with the API, the pollers and
the handlers for one interpreter lock, so the stack used one core of two. `EmulatorProcess` runs
the same `Emulator` (persistence and all: `local.persist` hooks into the backends, which live in
the child) in `python -m local.emulator_process`, and offers the parent what `Emulator` does: the
endpoint, the environment that targets it, the data directory's summary, `reset()` and `stop()`.

The two talk over the child's standard streams. The child prints one JSON line once it serves
(`{"port", "summary"}`, or `{"error"}` when the data directory is refused); the parent writes
`stop` on its stdin for a clean stop (a snapshot, as `Emulator.stop()` takes). If the parent dies
without a word (kill -9), the child's stdin ends: it exits at once, as the parent did, and the
write-ahead log keeps every acknowledged change. The child is in a session of its own and ignores
SIGINT: a Ctrl-C is the parent's to handle, which stops the API and the runners before the emulator.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from .emulator_base import EmulatorBase
from .persist import Summary
from .wal import DataError

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP = "stop"
START_TIMEOUT_S = 120.0  # restoring a large data directory replays its log first
STOP_TIMEOUT_S = 120.0  # a clean stop writes a snapshot of the whole state


class EmulatorProcess(EmulatorBase):
    """`Emulator`'s interface, with moto in a child process; `stop()` restores the environment."""

    def __init__(
        self, port: int = 0, region: str | None = None, data_dir: Path | str | None = None, fresh: bool = False
    ) -> None:
        super().__init__(port, region, data_dir, fresh)
        self.summary: Summary | None = None  # what the data directory held at start (None without one)
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        """Start the child, wait until it serves, point the environment at it; returns the endpoint."""
        command = [sys.executable, "-m", "local.emulator_process", "--port", str(self._requested_port)]
        command += ["--region", self.region, "--log-level", str(logging.getLogger("local").getEffectiveLevel())]
        if self.data_dir is not None:
            command += ["--data", str(self.data_dir)] + (["--fresh"] if self._fresh else [])
        path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        env.pop("AWS_ENDPOINT_URL", None)  # the child is the endpoint
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # a terminal's Ctrl-C reaches the parent only
        )
        try:
            ready = self._read_ready(self._process)
        except BaseException:
            self._kill()
            raise
        self.summary = Summary(**ready["summary"]) if ready.get("summary") else None
        self._target(int(ready["port"]))
        logger.info("AWS emulator (moto) on %s, process %d", self.endpoint_url, self._process.pid)
        return self.endpoint_url

    @staticmethod
    def _read_ready(process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = _readline(process.stdout, START_TIMEOUT_S)
        if not line:
            code = process.wait(timeout=10)
            raise RuntimeError(f"the emulator process exited ({code}) before serving; its errors are above")
        ready: dict[str, Any] = json.loads(line)
        if "error" in ready:
            process.wait(timeout=10)
            error = ready["error"]
            raise DataError(Path(error["path"]), error["reason"], error.get("hint", ""))
        return ready

    def stop(self) -> None:
        """A clean stop of the child (its snapshot written), then the environment put back."""
        process, self._process = self._process, None
        if process is not None:
            try:
                assert process.stdin is not None
                process.stdin.write(STOP + "\n")
                process.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # it is gone already
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                logger.warning("the emulator process did not stop in %.0f s: killed", STOP_TIMEOUT_S)
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._untarget()

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def _readline(stream: IO[str], timeout: float) -> str:
    """One line from the child, or '' if it ends or says nothing within `timeout`."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


# -- the child ----------------------------------------------------------------------------------


def _announce(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def serve(argv: list[str] | None = None) -> int:
    """`python -m local.emulator_process`: serve until `stop` (clean stop) or the end of stdin (parent gone)."""
    parser = argparse.ArgumentParser(prog="python -m local.emulator_process")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--data")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--log-level", type=int, default=logging.INFO)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("local").setLevel(args.log_level)
    logging.getLogger("local.emulator").setLevel(logging.WARNING)  # the parent says where it serves

    from .emulator import Emulator

    emulator = Emulator(port=args.port, region=args.region, data_dir=args.data, fresh=args.fresh)
    try:
        emulator.start()
    except DataError as error:
        hint = str(error).partition("\n")[2]
        _announce({"error": {"path": str(error.path), "reason": error.reason, "hint": hint}})
        return 2
    store = emulator.store
    _announce({"port": emulator.port, "summary": dataclasses.asdict(store.summary) if store else None})
    command = sys.stdin.readline().strip()
    if command != STOP:  # the parent died without stopping us: die as it did, the log has every change
        logging.getLogger(__name__).warning("the local stack's process is gone: the emulator exits too")
        os._exit(1)
    code = 0
    try:
        emulator.stop()
    except Exception:
        logging.getLogger(__name__).exception("the emulator's clean stop failed")
        code = 1
    # Everything is on disk: skip the interpreter's teardown of moto's thousands of objects (seconds).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(serve())
