"""What the stack adds for the people who run and review it, once every resource exists.

Called at the end of `BatchCallStack.__init__`: the REST API's access log, tracing and throttle and
each resource's justified checkov skips (`hardening`), and the operator's dashboard (`monitoring`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import hardening, monitoring

if TYPE_CHECKING:
    from .stack import BatchCallStack, ChaliceFunction


def finish(stack: BatchCallStack, sam: dict[str, Any], functions: list[ChaliceFunction]) -> None:
    from .stack import LOG_RETENTION  # here: stack imports this module

    ((api_id, api),) = ((k, v) for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Api")
    api_name = stack.settings.name("api")  # as `_api_alarm` names it
    hardening.harden_api(
        stack,
        stack.chalice.get_resource(api_id),
        name=api_name,
        protection=stack.protection,
        retention=LOG_RETENTION,
    )
    reserved: dict[str, int] = {}
    for function in functions:
        config = stack.function_config.get(function.name, {})
        if config.get("reserved_concurrency") is not None:
            reserved[function.name] = int(config["reserved_concurrency"])
        hardening.skip_for_function(
            stack.chalice.get_resource(function.logical_id),
            sqs_consumer=bool(function.sqs_events),
            scheduled=not function.sqs_events and function.name != "api_handler",
            reserved=function.name in reserved,
        )
    monitoring.dashboard(
        stack,
        name=stack.settings.name("operations"),
        functions={f.name: stack._function_name(f) for f in functions},
        reserved=reserved,
        queues=stack.queues,
        dlqs=stack.dlqs,
        api_name=api_name,
        api_stage=api["Properties"]["StageName"],
    )
    hardening.skip_by_type(stack, stack.protection)  # last: every resource exists
