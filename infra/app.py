"""Synthesize the stack offline: `python infra/app.py [--outdir DIR]` (no account, no node CDK CLI needed).

Settings come from the environment, as for the service itself: STAGE (default dev, and it must be a
stage of .chalice/config.json), RESOURCE_PREFIX (batchcall), the region from CDK_DEFAULT_REGION,
AWS_REGION or AWS_DEFAULT_REGION (us-east-1), the account from CDK_DEFAULT_ACCOUNT or AWS_ACCOUNT_ID
(unset: an account-agnostic template that resolves it at deploy time). ALARM_EMAIL is the default
of the `AlarmEmail` deploy parameter. `-c key=value` sets CDK context offline, as the CDK CLI's `-c`
does (`kms=customer`, `retain_data=false`: infra/README.md). `cdk deploy` (cdk.json) runs this same file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project root first: chalicelib imports, and Chalice's `import app` must find ROOT/app.py, not this file.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra")]
# jsii's node runtime prints a banner on old node versions (node 20 here); it changes nothing.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402 - after the environment above

from chalicelib.settings import Settings  # noqa: E402
from infra.stack import BatchCallStack  # noqa: E402


def settings_from_env(account: str) -> Settings:
    env = os.environ
    return Settings(
        STAGE=env.get("STAGE", "dev"),
        RESOURCE_PREFIX=env.get("RESOURCE_PREFIX", "batchcall"),
        AWS_REGION=env.get("CDK_DEFAULT_REGION")
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        AWS_ACCOUNT_ID=account,
    )


def build(outdir: str, context: dict[str, str] | None = None) -> cdk.App:
    account = os.environ.get("CDK_DEFAULT_ACCOUNT") or os.environ.get("AWS_ACCOUNT_ID")
    app = cdk.App(outdir=outdir, context=context or None)
    settings = settings_from_env(account or cdk.Aws.ACCOUNT_ID)
    os.environ["AWS_DEFAULT_REGION"] = settings.aws_region  # `chalice package` needs a region, not credentials
    BatchCallStack(
        app,
        settings.stage,  # must be the Chalice stage: see BatchCallStack
        stack_name=f"{settings.resource_prefix}-{settings.stage}",
        env=cdk.Environment(account=account, region=settings.aws_region),
        settings=settings,
        project_dir=ROOT,
        alarm_email=os.environ.get("ALARM_EMAIL") or None,
        description=f"batchcall ({settings.stage}): API, queues, tables, bucket, schedules",
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out"))
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="CDK context")
    args = parser.parse_args()
    context = dict(pair.split("=", 1) for pair in args.context)
    started = time.monotonic()
    build(args.outdir, context).synth()
    print(f"synthesized into {args.outdir} in {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
