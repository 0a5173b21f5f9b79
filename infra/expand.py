"""Apply the SAM transform offline, as CloudFormation does at deploy time.

The synthesized template keeps Chalice's `AWS::Serverless::*` resources, which cfn-lint checks only
loosely (a wrong `FunctionResponseTypes` in an SQS event passes). Expanded, they are the real
`AWS::Lambda::EventSourceMapping`, `AWS::Lambda::Function` and API Gateway resources: `make synth`
lints those too, and the template tests assert on them.

`python infra/expand.py DIR` writes `<stack>.expanded.json` beside each `<stack>.template.json`
that declares the transform.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

SAM = "AWS::Serverless-2016-10-31"


def expand(template: dict[str, Any], region: str) -> dict[str, Any]:
    """The template after the SAM transform. Needs neither credentials nor network."""
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    expanded: dict[str, Any] = translator.translate(
        copy.deepcopy(template),
        parameter_values={},
        get_managed_policy_map=lambda: {},  # only SAM policy templates need it; Chalice's roles are explicit
    )
    _carry_checkov_skips_to_stages(expanded)
    return expanded


def _carry_checkov_skips_to_stages(expanded: dict[str, Any]) -> None:
    """SAM keeps an `AWS::Serverless::Api`'s Metadata on the RestApi only; a skip declared there covers its stage too.

    Metadata changes nothing deployed; it lets the scan of the expanded template see the declared reasons.
    """
    resources = expanded["Resources"]
    for stage in (r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"):
        api = resources.get(stage["Properties"].get("RestApiId", {}).get("Ref", ""), {})
        declared = api.get("Metadata", {}).get("checkov")
        if declared and "checkov" not in stage.get("Metadata", {}):
            stage.setdefault("Metadata", {})["checkov"] = copy.deepcopy(declared)


def region_of(assembly: Path, stack_template: Path) -> str:
    """The stack's region from the cloud assembly's manifest (aws://account/region)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact.get("properties", {}).get("templateFile") == stack_template.name:
            return str(artifact["environment"]).rsplit("/", 1)[-1]
    raise LookupError(f"{stack_template.name} is not a stack of {assembly}")


def main() -> None:
    assembly = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    for path in sorted(assembly.glob("*.template.json")):
        template = json.loads(path.read_text())
        declared = template.get("Transform") or []
        if SAM not in (declared if isinstance(declared, list) else [declared]):
            continue
        target = path.with_name(path.name.removesuffix(".template.json") + ".expanded.json")
        target.write_text(json.dumps(expand(template, region_of(assembly, path)), indent=1))
        print(f"expanded {path} -> {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
