"""Deleting what the Kubernetes steps recorded, one ledger record at a time.

Teardown walks the ledger newest first, so a cloud's objects go before its namespace and
the namespace wait is short. On a k3s cluster of this run the objects live only on this
run's servers: if that API cannot be reached the record is let go, because deleting the
servers (later in the same teardown) removes them; an existing cluster has no such excuse.
"""

from __future__ import annotations

from engine.kube.apply import BY_RESOURCE_TYPE, delete_and_wait
from engine.kube.client import ApiUnreachable
from engine.kube.kubeconfig import connect, is_existing
from engine.ledger import LedgerRecord
from engine.plan import StepContext

NAMESPACE_DELETE_TIMEOUT_S = 180.0
OBJECT_DELETE_TIMEOUT_S = 60.0


def is_kube_record(record: LedgerRecord) -> bool:
    """True for the records the Kubernetes steps write (``k8s_*`` resource types)."""
    return record.resource_type in BY_RESOURCE_TYPE


async def delete_kube_resource(record: LedgerRecord, ctx: StepContext) -> bool:
    """False if ``record`` is not a Kubernetes object; else delete it and wait until gone.

    Raises ``StepError`` (one line, naming the object and the wait) when it is stuck.
    The caller strikes the record from the ledger on success.
    """
    kind = BY_RESOURCE_TYPE.get(record.resource_type)
    if kind is None:
        return False
    namespace = record.get("namespace")
    name = record.name or record.resource_id.rsplit("/", 1)[-1]
    timeout_s = NAMESPACE_DELETE_TIMEOUT_S if kind.name == "Namespace" else OBJECT_DELETE_TIMEOUT_S
    try:
        api = await connect(ctx)
        await delete_and_wait(ctx, api, kind, namespace, name, timeout_s)
    except ApiUnreachable:
        if is_existing(ctx.cloud):
            raise
        ctx.log(
            f"{kind.name.lower()} {record.resource_id}: k3s API unreachable; "
            "it goes with this run's servers"
        )
    return True
