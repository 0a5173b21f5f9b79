"""Test environment: moto in-process for integration tests; the unit tier needs no AWS at all."""

from __future__ import annotations

import gc
import os

# moto's in-process backends make many long-lived objects, so the cyclic collector's default (a young-generation
# pass every 700 allocations) walks them again and again: measured on chaos seeds 11-16, 36.5 -> 31.4 s of CPU,
# the same faults and answers (nothing here waits on a collection; reference counting frees the rest).
gc.set_threshold(100_000, 50, 1000)

# Before anything imports the app: its queue names come from these settings.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "test",
        "SIMULATOR_SPEED": "0",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": "https://calls.example.test/api",
        "PACING_MAX_SLEEP_SECONDS": "0",
        "SECRETS_BACKEND": "env",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
