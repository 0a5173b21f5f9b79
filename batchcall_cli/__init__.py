"""The `batchcall` command line: a small client of the public HTTP API (never deployed to Lambda)."""
