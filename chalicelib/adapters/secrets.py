"""Provider credentials, looked up by tenant and name and never stored in items, responses or logs.

In AWS each tenant's credentials are one SSM SecureString parameter holding a JSON object
(`<SECRETS_PATH>/<tenant_id>/<name>`, e.g. `{"account_sid": "AC...", "auth_token": "..."}`),
read through Powertools' parameters utility, which decrypts and caches it for a few minutes.
Locally (`SECRETS_BACKEND=env`) a key is the variable `<NAME>_<KEY>`, e.g. TWILIO_AUTH_TOKEN.
"""

from __future__ import annotations

import os
import re

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from .. import aws
from ..domain.json_input import JsonObject
from ..settings import Settings

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
CACHE_SECONDS = 300


class MissingSecret(Exception):
    """The credentials a call or a callback needs are not configured."""


class Secrets:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ssm: SSMProvider | None = None

    def get(self, tenant_id: str, name: str, keys: tuple[str, ...]) -> dict[str, str]:
        if not NAME.match(name):
            raise MissingSecret(f"{name!r} is not a credentials name (lower-case letters, digits, - and _)")
        values = self._env(name, keys) if self._settings.secrets_backend == "env" else self._param(tenant_id, name)
        missing = [key for key in keys if not values.get(key)]
        if missing:
            raise MissingSecret(f"credentials {name!r} lack {', '.join(missing)}")
        return {key: str(values[key]) for key in keys}

    @staticmethod
    def _env(name: str, keys: tuple[str, ...]) -> JsonObject:
        prefix = name.upper().replace("-", "_")
        return {key: os.environ.get(f"{prefix}_{key.upper()}") for key in keys}

    def _param(self, tenant_id: str, name: str) -> JsonObject:
        if self._ssm is None:
            self._ssm = SSMProvider(boto3_client=aws.ssm())
        path = self._settings.secret_path(tenant_id, name)
        try:
            value = self._ssm.get(path, decrypt=True, transform="json", max_age=CACHE_SECONDS)
        except GetParameterError:
            raise MissingSecret(f"no SSM parameter {path}") from None
        except TransformParameterError:
            raise MissingSecret(f"SSM parameter {path} is not a JSON object") from None
        if not isinstance(value, dict):
            raise MissingSecret(f"SSM parameter {path} is not a JSON object")
        return value
