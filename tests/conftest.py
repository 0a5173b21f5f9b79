"""Test environment: moto in-process for integration tests; the unit tier needs no AWS at all."""

from __future__ import annotations

import os

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
