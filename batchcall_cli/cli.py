"""The command line's frame: the typer apps, the consoles, global options and one-line errors.

Exit codes: 0 success (for `watch`: the batch completed); 1 an error (the API's message, a network
problem or a bad file, printed as one line to stderr); 2 bad usage; 3 the watched batch failed;
4 the watched batch was stopped; 5 gave up waiting (`--max-wait`); 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from .client import DEFAULT_URL, Client, CliError

EXIT_ERROR, EXIT_TIMEOUT, EXIT_INTERRUPTED = 1, 5, 130

app = typer.Typer(
    name="batchcall",
    help="Run calling campaigns on a batchcall service: agents, batches, live progress, CSV exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
agents_app = typer.Typer(help="The voice agents that place the calls.", no_args_is_help=True)
batches_app = typer.Typer(help="Batches: create from a CSV, run, watch, export, stop.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(batches_app, name="batches")

# Results on stdout; progress and notes on stderr, so `-o -` and `--json` keep stdout clean. Piped, a table
# is as wide as its content (rich would fit it to 80 columns and cut the ids scripts need).
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

F = TypeVar("F", bound=Callable[..., Any])


def handled(command: F) -> F:
    """Every failure the user can act on is one line on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise  # typer's own exits and usage errors
        except OSError as exc:  # a file we could not read or write
            fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", EXIT_ERROR)
        except Exception as exc:  # a bug or an answer we did not expect: still one line, unless debugging
            if os.environ.get("BATCHCALL_DEBUG"):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set BATCHCALL_DEBUG=1 for the traceback)", EXIT_ERROR)

    return run  # type: ignore[return-value]


def fail(message: str, code: int) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    raise typer.Exit(code)


@dataclass
class Options:
    url: str
    api_key: str | None
    timeout: float

    def client(self) -> Client:
        if not self.api_key:
            raise CliError("no API key: set BATCHCALL_API_KEY or pass --api-key")
        return Client(self.url, self.api_key, self.timeout)


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(envvar="BATCHCALL_URL", help="The API's base URL.")] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="BATCHCALL_API_KEY", help="An API key (bk_…).", show_default=False)
    ] = None,
    request_timeout: Annotated[float, typer.Option(help="Seconds to wait for each HTTP answer.")] = 30.0,
) -> None:
    """Set BATCHCALL_URL and BATCHCALL_API_KEY (or pass --url and --api-key), then run a command."""
    ctx.obj = Options(url, api_key, request_timeout)


def client_of(ctx: typer.Context) -> Client:
    options: Options = ctx.find_root().obj
    return options.client()


def say(markup: str, console: Console = out) -> None:
    """One message line, never wrapped at the terminal's width (scripts grep these)."""
    console.print(markup, highlight=False, soft_wrap=True)


class _Quiet:
    def update(self, status: str) -> None:
        """No spinner off a terminal: nothing to update."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def spinner(text: str) -> Any:
    """A spinner on stderr when it is a terminal; nothing in logs and pipes."""
    return err.status(text) if err.is_terminal else _Quiet()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
