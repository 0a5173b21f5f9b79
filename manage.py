"""Operator commands: `python manage.py create-key --tenant acme [--label ci]`.

Uses the same settings as the service (STAGE, RESOURCE_PREFIX, AWS_REGION, AWS_ENDPOINT_URL for
the local stack), so it issues keys against whichever deployment the environment points at.
"""

from __future__ import annotations

import argparse
import sys

from chalicelib.services.auth import create_api_key
from chalicelib.services.container import get_services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py")
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("create-key", help="issue an API key bound to one tenant")
    key.add_argument("--tenant", required=True, help="tenant id the key acts for")
    key.add_argument("--label", default="", help="a note to recognise the key by")
    args = parser.parse_args(argv)
    if args.command == "create-key":
        print(create_api_key(get_services().keys, args.tenant, args.label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
