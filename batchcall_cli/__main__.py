"""`python -m batchcall_cli`, the same as the `batchcall` console script."""

from .main import app

app(prog_name="batchcall")
