"""Scan the synthesized templates with checkov, offline: `python infra/scan.py DIR...` (from .venv-checkov).

Scans each DIR's `*.template.json` (what CloudFormation receives) and `*.expanded.json` (after the
SAM transform). Fails on any failed check, and on a skip without a reason; prints every skip with
its reason, grouped. Skips are declared on the resources themselves (infra/hardening.py), never
here: this runs every check checkov has.

Offline: `--skip-download` and BC_SKIP_MAPPING skip the platform's policy metadata, and
CKV_SKIP_PACKAGE_UPDATE_CHECK the PyPI version check; without an API key nothing is uploaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
TIMEOUT_S = 600  # never wait forever, whatever checkov does


def run_checkov(files: list[Path]) -> list[dict[str, Any]]:
    checkov = Path(sys.executable).with_name("checkov")
    command = [str(checkov), "--framework", "cloudformation", "--skip-download", "--compact", "-o", "json"]
    for file in files:
        command += ["-f", str(file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_API_KEY", "PRISMA_"))} | OFFLINE
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False)
    if proc.returncode not in (0, 1):  # 1: some check failed
        sys.exit(f"checkov exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    reports = json.loads(proc.stdout)
    return reports if isinstance(reports, list) else [reports]


def main() -> int:
    dirs = [Path(d) for d in sys.argv[1:]] or [Path("cdk.out")]
    files = [f for d in dirs for pattern in ("*.template.json", "*.expanded.json") for f in sorted(d.glob(pattern))]
    if missing := [str(d) for d in dirs if not any(f.parent == d for f in files)]:
        sys.exit(f"no templates in {', '.join(missing)}: run `make synth` first")
    started = time.monotonic()
    reports = run_checkov(files)
    failed: list[str] = []
    unexplained: list[str] = []
    skips: dict[tuple[str, str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for report in reports:
        for key in totals:
            totals[key] += report["summary"][key]
        results = report["results"]
        for check in results["failed_checks"]:
            failed.append(f"  {check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}")
        for check in results["skipped_checks"]:
            reason = (check.get("check_result") or {}).get("suppress_comment") or ""
            if not reason.strip():
                unexplained.append(f"  {check['check_id']} {check['resource']} ({check['file_path']})")
            logical_id = check["resource"].rsplit(".", 1)[-1]
            skips[(check["check_id"], check["check_name"], reason)][logical_id].add(
                Path(check["file_path"]).parent.name
            )
    print(
        f"checkov over {len(files)} templates in {', '.join(map(str, dirs))}: {totals['passed']} passed, "
        f"{totals['failed']} failed, {totals['skipped']} skipped ({time.monotonic() - started:.0f} s)"
    )
    print("skipped, each with the reason declared on the resource:")
    for (check_id, name, reason), resources in sorted(skips.items()):
        where = sorted(set().union(*resources.values()))
        print(
            f"- {check_id} {name}\n    why: {reason}\n    on:  {', '.join(sorted(resources))} (in {', '.join(where)})"
        )
    if unexplained:
        print("skips without a reason:\n" + "\n".join(unexplained))
    if failed:
        print("FAILED:\n" + "\n".join(failed))
    return 1 if failed or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
