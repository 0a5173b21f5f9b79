"""Operator commands: `python manage.py create-key --tenant acme [--label ci]`.

Uses the same settings as the service (STAGE, RESOURCE_PREFIX, AWS_REGION, AWS_ENDPOINT_URL for
the local stack), so it issues keys against whichever deployment the environment points at.
Against the local stack's emulator it needs no AWS credentials (see `emulator_credentials`).
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import NoCredentialsError

from chalicelib.services.auth import create_api_key
from chalicelib.services.container import get_dependencies

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def emulator_credentials() -> bool:
    """Fake credentials when AWS_ENDPOINT_URL is this machine's emulator and none are configured.

    The emulator accepts any; boto3 still wants some and would fail with NoCredentialsError. Never
    for any other endpoint: real AWS must be reached with the credentials the operator configured.
    Returns whether it set them.
    """
    environ = os.environ  # boto3 reads it too
    endpoint = environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint or urlsplit(endpoint).hostname not in LOOPBACK_HOSTS:
        return False
    environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup for a local target
    if boto3.session.Session().get_credentials() is not None:
        return False
    environ.update(EMULATOR_CREDENTIALS)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py")
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("create-key", help="issue an API key bound to one tenant")
    key.add_argument("--tenant", required=True, help="tenant id the key acts for")
    key.add_argument("--label", default="", help="a note to recognise the key by")
    args = parser.parse_args(argv)
    emulator_credentials()
    try:
        if args.command == "create-key":
            print(create_api_key(get_dependencies().keys, args.tenant, args.label))
    except NoCredentialsError:
        print(
            "error: no AWS credentials. For the local stack, export the AWS_ENDPOINT_URL=... line `make run` "
            "prints; for a deployment, configure credentials for its account",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
