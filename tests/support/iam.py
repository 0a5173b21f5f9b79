"""Which AWS calls each Chalice function really makes, checked against its entry in infra/permissions.py.

`acting(name)` marks the code that runs as function `name` (the pump sets it around each handler it invokes and
around the sweeper, the permission test around the API test client's requests); `CallRecorder`, installed as the
client hook, records each call made meanwhile as the IAM (action, resource) pairs AWS would authorise, following
permissions.py's docstring: transactions per element, SendMessageBatch as SendMessage, HeadObject as GetObject,
multipart and CopyObject's write as PutObject. A schedule also passes the Scheduler's role (iam:PassRole) and
makes that role send to its target queue when it fires: recorded as SCHEDULER_ROLE's need, checked against
permissions.SCHEDULER_TARGETS.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from chalicelib import aws
from chalicelib.resources import QUEUES, TABLES, bucket_name, dlq_name, queue_name, table_name
from chalicelib.settings import Settings
from infra.permissions import ACCESS, SCHEDULER_TARGETS, Access

_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting", default=None)

Need = tuple[str, str, str]  # (function, IAM action, resource: table:x, table:x/index:y, object:key, queue:x, ...)
SCHEDULER_ROLE = "scheduler-role"  # the role EventBridge Scheduler assumes to deliver a schedule (infra/stack.py)

_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_ITEM_ACTIONS["ConditionCheck"] = "ConditionCheckItem"
_S3_WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}


@contextlib.contextmanager
def acting(function: str) -> Iterator[None]:
    """AWS calls made inside are made by Lambda function `function` (a Chalice handler's name)."""
    token = _acting.set(function)
    try:
        yield
    finally:
        _acting.reset(token)


class CallRecorder:
    """A client hook (aws.install_client_hook) that records every call made while some function is acting."""

    def __init__(self, settings: Settings) -> None:
        self.needs: set[Need] = set()
        self._tables = {table_name(settings, t): t.short for t in TABLES}
        self._queues = {queue_name(settings, q): f"queue:{q.short}" for q in QUEUES}
        self._queues |= {dlq_name(settings, q): f"dlq:{q.short}" for q in QUEUES}
        self._bucket = bucket_name(settings)
        self._secrets = settings.secret_path("*", "*")  # the parameters infra/stack.py lets `secrets` read
        self._inner: Any = None

    def install(self) -> None:
        self._inner = aws._client_hook  # keep a fault injector's hook working underneath
        aws.install_client_hook(self)

    def uninstall(self) -> None:
        aws.install_client_hook(self._inner)

    def __call__(self, service: str, client: Any) -> None:
        if self._inner is not None:
            self._inner(service, client)
        client.meta.events.register("provide-client-params", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = _acting.get()
        if function is None:  # test set-up, or the event source mapping's own receives and deletes
            return
        service = model.service_model.service_name
        for action, resource in self._translate(service, model.name, params):
            self.needs.add((function, action, resource))
        if service == "scheduler" and model.name in ("CreateSchedule", "UpdateSchedule"):
            target = params["Target"]["Arn"].rsplit(":", 1)[-1]
            self.needs.add((SCHEDULER_ROLE, "sqs:SendMessage", self._queues.get(target, f"queue:{target}")))

    def _translate(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        if service == "s3":
            return self._s3(operation, params)
        if service == "sqs":
            name = params.get("QueueName") or str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
            action = "SendMessage" if operation == "SendMessageBatch" else operation
            return [(f"sqs:{action}", self._queues.get(name, f"queue:{name}"))]
        if service == "scheduler":
            group = f"schedule-group:{params.get('GroupName', 'default')}"
            passes = [("iam:PassRole", "role:scheduler")] if "Target" in params else []
            return [(f"scheduler:{operation}", group), *passes]
        if service == "ssm":
            name = str(params.get("Name", ""))
            inside = fnmatch.fnmatchcase(name, self._secrets)
            return [(f"ssm:{operation}", f"{'parameter' if inside else 'other-parameter'}:{name}")]
        return [(f"{service}:{operation}", "*")]

    def _table(self, name: str) -> str:
        return f"table:{self._tables.get(name, name)}"

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", self._table(t)) for t in params["RequestItems"]]
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_ITEM_ACTIONS[kind]}", self._table(body["TableName"]))
                for element in params["TransactItems"]
                for kind, body in element.items()
            ]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", self._table(e["Get"]["TableName"])) for e in params["TransactItems"]]
        resource = self._table(params["TableName"])
        if params.get("IndexName"):
            resource += f"/index:{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]

    def _s3(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"bucket:{params['Bucket']}")]
        if operation == "CreateBucket":  # generate_presigned_post builds its URL with this model: no call is made
            return []
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", f"object:{o['Key']}") for o in params["Delete"]["Objects"]]
        key = f"object:{params.get('Key', '')}"
        if operation == "CopyObject":
            source = params["CopySource"]
            source_key = source["Key"] if isinstance(source, dict) else unquote(str(source)).split("/", 1)[1]
            return [("s3:PutObject", key), ("s3:GetObject", f"object:{source_key}")]
        if operation in _S3_WRITES:
            return [("s3:PutObject", key)]
        if operation == "HeadObject":
            return [("s3:GetObject", key)]
        return [(f"s3:{operation}", key)]


def consumes(function: str) -> set[str]:
    return {f"queue:{q.short}" for q in QUEUES if q.consumer == function}


def allows(function: str, access: Access, action: str, resource: str) -> bool:
    """Whether the policy infra/stack.py builds from `access` allows `action` on `resource`."""
    kind, _, name = resource.partition(":")
    if kind == "table":
        table, _, index = name.partition("/index:")
        if index:
            return action == "dynamodb:Query" and any(t.short == table and i == index for t, i in access.indexes)
        return any(t.short == table and action in actions for t, actions in access.items)
    if kind == "object":
        return any(action in actions and fnmatch.fnmatchcase(name, pattern) for pattern, actions in access.objects)
    if kind == "bucket":
        return action == "s3:ListBucket" and access.list_bucket
    if kind in ("queue", "dlq"):
        if action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            return resource in consumes(function)  # the event source mapping's poller
        queues = access.sends if kind == "queue" else access.dead_letters
        return action in ("sqs:GetQueueUrl", "sqs:SendMessage") and any(q.short == name for q in queues)
    if kind == "schedule-group":
        return access.schedules and action in (
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
        )
    if kind == "role":
        return access.schedules and action == "iam:PassRole"
    return kind == "parameter" and access.secrets and action == "ssm:GetParameter"


def missing(needs: set[Need], access: dict[str, Access] = ACCESS) -> list[Need]:
    """Every recorded (function, action, resource) that the function's Access entry does not allow."""
    return sorted(need for need in needs if not _allowed(need, access))


def _allowed(need: Need, access: dict[str, Access]) -> bool:
    function, action, resource = need
    if function == SCHEDULER_ROLE:  # the role infra/stack.py gives the Scheduler sends to these queues alone
        return action == "sqs:SendMessage" and resource in {f"queue:{q.short}" for q in SCHEDULER_TARGETS}
    return function in access and allows(function, access[function], action, resource)
