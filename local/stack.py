"""The whole service on one laptop: emulator, resources, API, event sources, demo data.

`LocalStack` composes the pieces in the order they depend on each other: the
environment (the Chalice stage's variables, overridden by `LOCAL_DEFAULTS`, both
overridden by whatever the caller exported), the emulator, the resources, the app
(imported only now, because it reads its settings at import), the API server and
the three runners, then the demo tenant. `main()` is `python -m local`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from chalice.cli.factory import CLIFactory
from chalice.config import Config

from chalicelib import resources
from chalicelib.settings import get_settings

from . import EnvPatch
from .api_server import ApiServer
from .bootstrap import create_resources
from .emulator import Emulator
from .emulator_process import EmulatorProcess
from .faults import FaultConfig, FaultInjector
from .persist import Summary, status_path, write_json
from .rules_runner import RulesRunner
from .scheduler_runner import SchedulerRunner
from .sqs_runner import DEFAULT_CONCURRENCY, SqsRunner
from .wal import DataError

if TYPE_CHECKING:
    from chalice import Chalice

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_NAME = ".data"  # in the project directory, ignored by git
DEMO_FILE = "demo.json"  # the demo key (its plaintext: only its hash is in the tables) and agent, reused
LOCAL_DEFAULTS = {
    "SIMULATOR_SPEED": "30",  # a one-minute call takes two seconds
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines are for CloudWatch; locally they are noise
    "WEBHOOK_ALLOW_PRIVATE": "true",  # local receivers live on 127.0.0.1
}


class LocalStack:
    """`start()` or `with LocalStack(...) as stack:`; `stop()` stops every part, restores the environment."""

    def __init__(
        self,
        *,
        project_dir: Path | str = PROJECT_ROOT,
        app: Chalice | None = None,
        stage: str = "dev",
        api_port: int = 8000,
        aws_port: int = 0,
        seed: bool = True,
        default_concurrency: int = DEFAULT_CONCURRENCY,
        rules_interval: float | None = None,
        data_dir: Path | str | None = None,
        fresh: bool = False,
        faults: str | None = None,
        emulator_process: bool = True,
    ) -> None:
        self.faults = FaultInjector(FaultConfig.parse(faults)) if faults else None  # `make run FAULTS=seed=7,rate=0.05`
        self.project_dir = Path(project_dir).resolve()
        self.app = app
        self.stage = stage
        self._api_port = api_port
        self._seed = seed
        self._default_concurrency = default_concurrency
        self._rules_interval = rules_interval
        self._env = EnvPatch()
        # moto in a process of its own (a core and a GIL apart from the service), or in this one
        emulator = EmulatorProcess if emulator_process else Emulator
        self.emulator: Emulator | EmulatorProcess = emulator(port=aws_port, data_dir=data_dir, fresh=fresh)
        self.config: Config | None = None
        self.api: ApiServer | None = None
        self.sqs: SqsRunner | None = None
        self.scheduler: SchedulerRunner | None = None
        self.rules: RulesRunner | None = None
        self.api_key: str | None = None
        self.agent_id: str | None = None

    @property
    def data_dir(self) -> Path | None:
        return self.emulator.data_dir

    @property
    def api_url(self) -> str:
        if self.api is None:
            raise RuntimeError("the stack is not running")
        return self.api.url

    @property
    def aws_url(self) -> str:
        return self.emulator.endpoint_url

    def start(self) -> LocalStack:
        """Bring everything up; on any failure, stop what already started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.config = self._load_config()
        for key, value in {**self.config.environment_variables, **LOCAL_DEFAULTS}.items():
            self._env.setdefault(key, str(value))  # what the caller exported wins
        _forget_settings()
        self.emulator.start()
        settings = get_settings()
        create_resources(settings)
        if self.app is None:
            self.app = self._import_app()
        self.api = ApiServer(self.app, self.config, port=self._api_port)
        self.api.start()
        if not settings.public_base_url:  # providers' callbacks (and their signatures) use the bound port
            settings.public_base_url = self.api.url
            self._env.setdefault("PUBLIC_BASE_URL", self.api.url)
        around = self.faults.armed if self.faults else None
        if self.faults:
            self.faults.install()
            logger.warning(
                "fault injection on: %s (each fault is logged with the seed and its point)", self.faults.config
            )
        self.sqs = SqsRunner(
            self.app, self.config, default_concurrency=self._default_concurrency, around=around
        ).start()
        self.scheduler = SchedulerRunner(resources.schedule_group_name(settings)).start()
        self.rules = RulesRunner(self.app, self.config, interval_override=self._rules_interval).start()
        if self._seed:
            self._seed_demo()
        if self.data_dir is not None:  # for scripts and tests: where the stack is, machine-readable
            write_json(
                status_path(self.data_dir),
                {"pid": os.getpid(), "api_url": self.api_url, "aws_url": self.aws_url, "aws_pid": self.emulator.pid}
                | {"api_key": self.api_key, "agent_id": self.agent_id},
            )

    def stop(self) -> None:
        """Stop the API first (no new work), then the runners, then the emulator; restore the environment."""
        for part in (self.api, self.rules, self.scheduler, self.sqs):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    logger.exception("stopping %s failed", type(part).__name__)
        self.api = self.rules = self.scheduler = self.sqs = None
        if self.data_dir is not None and self.emulator.summary is not None:
            status_path(self.data_dir).unlink(missing_ok=True)
        self.emulator.stop()
        self._env.restore()
        _forget_settings()

    def _load_config(self) -> Config:
        """The Chalice stage config (per-function settings, environment variables), or an empty one."""
        if not (self.project_dir / ".chalice" / "config.json").is_file():
            logger.warning("no .chalice/config.json in %s: Chalice defaults apply", self.project_dir)
            return Config.create(chalice_stage=self.stage, project_dir=str(self.project_dir))
        factory = CLIFactory(str(self.project_dir), environ=os.environ)
        return factory.create_config_obj(chalice_stage_name=self.stage)

    def _import_app(self) -> Chalice:
        """`app` from the project's app.py, imported as `chalice local` does (project dir on sys.path)."""
        if str(self.project_dir) not in sys.path:
            sys.path.insert(0, str(self.project_dir))
        # Cached for the process, like any module: it keeps the queue names it read at import, and
        # cannot be imported twice (Chalice blueprints register their routes only once).
        return importlib.import_module("app").app

    def _seed_demo(self) -> None:
        try:
            from chalicelib.services.admin import seed_demo  # lazily: written by another hand
        except ImportError as error:
            logger.warning("no demo data: %s", error)
            return
        if self._reuse_demo():
            return
        self.api_key, self.agent_id = seed_demo()
        if self.data_dir is not None:
            write_json(self.data_dir / DEMO_FILE, {"api_key": self.api_key, "agent_id": self.agent_id})

    def _reuse_demo(self) -> bool:
        """On a restored data directory: the demo key and agent of the first start, when both still exist."""
        if self.data_dir is None or not (self.data_dir / DEMO_FILE).is_file():
            return False
        from chalicelib.services.auth import hash_key
        from chalicelib.services.container import get_dependencies

        demo = json.loads((self.data_dir / DEMO_FILE).read_text())
        deps = get_dependencies()
        key, agent_id = demo.get("api_key"), demo.get("agent_id")
        if not key or not agent_id or deps.keys.tenant_for(hash_key(key)) is None:
            return False
        if deps.agents.find_by_id(agent_id) is None:
            return False
        self.api_key, self.agent_id = key, agent_id
        return True

    @property
    def restored(self) -> Summary | None:
        """What the data directory held at start (None without one)."""
        return self.emulator.summary

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _forget_settings() -> None:
    """Settings, and the services built on them, are read anew: a stack started after another one in the
    same process (test tiers) must not serve with the stopped one's settings (its URL, its limits)."""
    from chalicelib.services.container import get_dependencies  # lazily: the app's import order stays the app's

    get_settings.cache_clear()
    get_dependencies.cache_clear()


# A start one minute ahead, with BSD date (macOS) or else GNU date (Linux).
ONE_MINUTE_AHEAD = "$(date -u -v+1M +%FT%TZ 2>/dev/null || date -u -d '+1 minute' +%FT%TZ)"


def banner(stack: LocalStack) -> str:
    """What a person needs to try the service: where it is, a key, and the README's walk-through to paste.

    Every command of README.md's walk-through is here with the values filled in (a test holds them equal).
    """
    csv = stack.project_dir / "samples" / "contacts.csv"
    csv_arg = os.path.relpath(csv) if csv.is_relative_to(Path.cwd()) else str(csv)
    key = stack.api_key or "<api key>"  # none when not seeded: `python manage.py create-key` makes one
    agent = stack.agent_id or "<agent id>"
    settings = get_settings()
    bucket = resources.bucket_name(settings)
    auth = '-H "Authorization: Bearer $KEY"'
    lines = [
        "",
        f"  API          {stack.api_url}",
        f"  Dashboard    {stack.api_url}/dashboard   (sign in with the key below)",
        f"  AWS (moto)   {stack.aws_url}   bucket {bucket}",
        f"  API key      {key}",
        f"  Agent id     {agent}",
        *data_lines(stack),
        "",
        "The README's walk-through, values filled in:",
        f"  export URL={stack.api_url} KEY={key} AGENT={agent}",
        f"  export AWS_ENDPOINT_URL={stack.aws_url} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
        f" AWS_REGION={settings.aws_region}",
        "  # 1. create a batch from the sample CSV; 2. see why rows were skipped",
        f"  curl -s -X POST $URL/batches {auth} -F agent_id=$AGENT -F file=@{csv_arg}",
        "  export BATCH=<batch_id>",
        f"  curl -s $URL/batches/$BATCH/errors {auth}",
        "  # 3. schedule it one minute ahead, or start it now",
        f"  curl -s -X POST $URL/batches/$BATCH/schedule {auth} -F scheduled_at={ONE_MINUTE_AHEAD}",
        f"  curl -s -X POST $URL/batches/$BATCH/run {auth}",
        "  # 4. poll until completed; 5. the results, JSON and CSV",
        f"  curl -s $URL/batches/$BATCH {auth}",
        f'  curl -s "$URL/batches/$BATCH/executions?limit=100" {auth}',
        f"  curl -sL $URL/batches/$BATCH/executions.csv {auth}",
        "  # the drop folder; another API key",
        f"  aws --endpoint-url $AWS_ENDPOINT_URL s3 cp {csv_arg} s3://{bucket}/inbox/$AGENT/contacts.csv",
        '  .venv/bin/python manage.py create-key --tenant acme --label "ci"',
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def data_lines(stack: object) -> list[str]:
    """Where the data lives and what was restored: one banner line (none without a data directory)."""
    data_dir: Path | None = getattr(stack, "data_dir", None)
    summary: Summary | None = getattr(stack, "restored", None)
    if data_dir is None or summary is None:
        return ["  Data         in memory only: gone at stop"]
    shown = os.path.relpath(data_dir) if data_dir.is_relative_to(Path.cwd()) else str(data_dir)
    if not summary.restored:
        return [f"  Data         {shown} (new)"]
    settings = get_settings()
    counts = [
        (summary.items.get(resources.table_name(settings, table), 0), label)
        for table, label in (
            (resources.TENANTS, "tenants"),
            (resources.AGENTS, "agents"),
            (resources.BATCHES, "batches"),
            (resources.EXECUTIONS, "executions"),
        )
    ]
    restored = ", ".join(f"{count} {label}" for count, label in [*counts, (summary.messages, "queued messages")])
    return [f"  Data         {shown} (restored: {restored})"]


def main(argv: list[str] | None = None) -> int:
    """`python -m local`: run until SIGINT or SIGTERM, then stop cleanly and return 0."""
    parser = argparse.ArgumentParser(prog="python -m local", description="Run the service locally.")
    parser.add_argument("--port", type=int, default=8000, help="API port (0: any free port)")
    parser.add_argument("--aws-port", type=int, default=0, help="emulator port (default: any free port)")
    parser.add_argument("--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--stage", default="dev", help="Chalice stage whose config is used (default: dev)")
    parser.add_argument("--project-dir", default=str(PROJECT_ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo tenant")
    parser.add_argument("--data", help="data directory (default: .data in the project)")
    parser.add_argument("--fresh", action="store_true", help="delete what the data directory holds first")
    parser.add_argument("--no-data", action="store_true", help="keep everything in memory only")
    parser.add_argument(
        "--faults",
        default=os.environ.get("FAULTS") or None,
        help="seeded fault injection in the queue consumers, e.g. seed=7,rate=0.05 (local only; see local/faults.py)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("local").setLevel(logging.WARNING if args.quiet else logging.INFO)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # a second Ctrl-C: the user does not want to wait
            raise SystemExit(1)
        stopping.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        stack = LocalStack(
            project_dir=args.project_dir,
            stage=args.stage,
            api_port=args.port,
            aws_port=args.aws_port,
            seed=not args.no_seed,
            data_dir=None if args.no_data else (args.data or Path(args.project_dir) / DATA_DIR_NAME),
            fresh=args.fresh,
            faults=args.faults,
        )
        try:
            stack.start()
        except DataError as error:
            print(f"cannot start: {error}", file=sys.stderr, flush=True)
            return 2
        try:
            if not stopping.is_set():
                print(banner(stack), flush=True)
            while not stopping.wait(0.5):
                pass
            logger.info("stopping")
        finally:
            stack.stop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
