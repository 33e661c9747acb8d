"""Kubernetes for crossroom: k3s bootstrapped by cloud-init, or an existing cluster.

The lead's entry points: ``render_user_data`` (cloud-init for OpenStack servers),
``kube_steps`` (the "kubernetes" and "cockroach" steps), ``delete_kube_resource``
(teardown), ``restart_pod`` / ``stop_node`` / ``start_node`` (chaos), ``watch_pods``
(pane feed) and ``ExistingKubernetesCloud`` (a whole ``CloudBackend`` for
``kubernetes: {kubeconfig, context}``).

Names resolve lazily: importing the official kubernetes client costs over a second, and
a rehearsal run, or the OpenStack provider rendering user data, should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.kube.cloud import ExistingKubernetesCloud
    from engine.kube.kubeconfig import ensure_k3s_ca_set, is_existing
    from engine.kube.pods import (
        node_indexes,
        restart_pod,
        start_node,
        stop_node,
        undo_cordon,
        watch_pods,
    )
    from engine.kube.steps import kube_steps
    from engine.kube.teardown import delete_kube_resource, is_kube_record
    from engine.kube.userdata import render_user_data

_HOMES = {
    "ExistingKubernetesCloud": "engine.kube.cloud",
    "ensure_k3s_ca_set": "engine.kube.kubeconfig",
    "is_existing": "engine.kube.kubeconfig",
    "node_indexes": "engine.kube.pods",
    "restart_pod": "engine.kube.pods",
    "start_node": "engine.kube.pods",
    "stop_node": "engine.kube.pods",
    "undo_cordon": "engine.kube.pods",
    "watch_pods": "engine.kube.pods",
    "kube_steps": "engine.kube.steps",
    "delete_kube_resource": "engine.kube.teardown",
    "is_kube_record": "engine.kube.teardown",
    "render_user_data": "engine.kube.userdata",
}

__all__ = [
    "ExistingKubernetesCloud",
    "delete_kube_resource",
    "ensure_k3s_ca_set",
    "is_existing",
    "is_kube_record",
    "kube_steps",
    "node_indexes",
    "render_user_data",
    "restart_pod",
    "start_node",
    "stop_node",
    "undo_cordon",
    "watch_pods",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine.kube' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
