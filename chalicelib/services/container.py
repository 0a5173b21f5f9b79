"""Dependencies built once per process and passed to use cases through constructors."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..adapters.queues import Queues, Scheduler
from ..adapters.secrets import Secrets
from ..providers.base import Provider
from ..providers.http_agent import HttpAgentProvider
from ..providers.simulator import SimulatorProvider
from ..providers.twilio import TwilioProvider
from ..settings import Settings, get_settings
from ..store.agents import AgentStore
from ..store.audit import AuditStore
from ..store.batches import BatchStore
from ..store.blobs import BlobStore
from ..store.callback_receipts import CallbackReceiptStore
from ..store.erasures import ErasureStore
from ..store.executions import ExecutionStore
from ..store.keys import KeyStore
from ..store.leases import LeaseStore
from ..store.numbers import NumberStore
from ..store.pacing import Pacer
from ..store.tenants import TenantStore
from ..store.webhook_deliveries import DeliveryStore


@dataclass
class Dependencies:
    settings: Settings
    keys: KeyStore
    agents: AgentStore
    batches: BatchStore
    executions: ExecutionStore
    blobs: BlobStore
    queues: Queues
    scheduler: Scheduler
    leases: LeaseStore
    deliveries: DeliveryStore
    tenants: TenantStore
    pacer: Pacer
    callback_receipts: CallbackReceiptStore
    numbers: NumberStore  # the do-not-call list and each number's attempt history
    audit: AuditStore
    erasures: ErasureStore
    providers: dict[str, Provider] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Dependencies:
        batches = BatchStore(settings)
        queues = Queues(settings)
        secrets = Secrets(settings)
        providers: dict[str, Provider] = {
            "simulator": SimulatorProvider(queues, settings.simulator_seed, settings.simulator_speed),
            "twilio": TwilioProvider(secrets, settings),
            "http": HttpAgentProvider(secrets, settings),
        }
        return cls(
            settings=settings,
            keys=KeyStore(settings),
            agents=AgentStore(settings),
            batches=batches,
            executions=ExecutionStore(settings, batches),
            blobs=BlobStore(settings),
            queues=queues,
            scheduler=Scheduler(settings, queues),
            leases=LeaseStore(settings, batches),
            deliveries=DeliveryStore(settings),
            tenants=TenantStore(settings),
            pacer=Pacer(settings),
            callback_receipts=CallbackReceiptStore(settings),
            numbers=NumberStore(settings),
            audit=AuditStore(settings),
            erasures=ErasureStore(settings),
            providers=providers,
        )


@lru_cache(maxsize=1)
def get_dependencies() -> Dependencies:
    return Dependencies.build(get_settings())
