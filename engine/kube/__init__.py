"""Kubernetes for crossroom: k3s bootstrapped by cloud-init, or an existing cluster.

The lead's entry points: ``render_user_data`` (cloud-init for OpenStack servers),
``kube_steps`` (the "kubernetes" and "cockroach" steps), ``delete_kube_resource``
(teardown), ``kill_pod`` / ``revive_pod`` (chaos), ``watch_pods`` (pane feed) and
``ExistingKubernetesCloud`` (a whole ``CloudBackend`` for ``kubernetes: {kubeconfig}``).
"""

from __future__ import annotations

from engine.kube.cloud import ExistingKubernetesCloud
from engine.kube.kubeconfig import is_existing
from engine.kube.pods import kill_all_pods, kill_pod, revive_pod, watch_pods
from engine.kube.steps import kube_steps
from engine.kube.teardown import delete_kube_resource, is_kube_record
from engine.kube.userdata import render_user_data

__all__ = [
    "ExistingKubernetesCloud",
    "delete_kube_resource",
    "is_existing",
    "is_kube_record",
    "kill_all_pods",
    "kill_pod",
    "kube_steps",
    "render_user_data",
    "revive_pod",
    "watch_pods",
]
