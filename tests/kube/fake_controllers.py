"""The fake API server's controllers: nodes, namespace termination, StatefulSets, pods, Jobs.

The scheduler places ordinals on nodes in a seeded shuffle (never ordinal N on node N+1
by luck), keeps a pod name on the node it first got (local-path volumes are pinned), and
leaves a pod Pending while its node is cordoned, as kube-scheduler does
(``pkg/scheduler/framework/plugins/nodeunschedulable``, ``.../volumebinding``).

Mixed into ``FakeCluster``; every method runs with the cluster's lock held, called about
every 30 ms by the server's controller thread (``reconcile``).
"""

from __future__ import annotations

import copy
import random
import time
import uuid
from typing import Any

Obj = dict[str, Any]


def _now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Controllers:
    """Just enough of kube-controller-manager and the kubelet for crossroom's paths."""

    def node_list(self) -> Obj:
        with self.cond:
            ready_count = getattr(self, "_ready_nodes", self.nodes)
            up = time.monotonic() - self.started >= self.nodes_ready_after
            items = []
            for i in range(1, self.nodes + 1):
                ready = up and i <= ready_count
                name = self.node_name(i)
                items.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": name, "uid": f"node-{i}"},
                        "spec": {"unschedulable": True} if name in self.unschedulable else {},
                        "status": {
                            # As k3s's cloud provider reports them (``pkg/cloudprovider/
                            # instances.go`` ``NodeAddresses``): InternalIP, ExternalIP, then
                            # Hostname, which every kubelet reports and which is not an IP.
                            "addresses": [
                                {"type": "InternalIP", "address": f"10.0.0.{10 + i}"},
                                {"type": "ExternalIP", "address": f"203.0.113.{10 + i}"},
                                {"type": "Hostname", "address": name},
                            ],
                            "conditions": [
                                {"type": "Ready", "status": "True" if ready else "False"}
                            ],
                        },
                    }
                )
            return {
                "kind": "NodeList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self.rv)},
                "items": items,
            }

    def reconcile(self) -> None:
        """One pass of the controllers; called every few tens of milliseconds."""
        with self.cond:
            t = time.monotonic()
            self._namespaces(t)
            self._statefulsets(t)
            self._pods(t)
            self._jobs(t)

    def _namespaces(self, t: float) -> None:
        for (_, name), obj in list(self._store("v1", "namespaces").items()):
            if obj["status"].get("phase") != "Terminating" or name in self.stuck_namespaces:
                continue
            if (
                t - self._timers.get(("v1", "namespaces", "", name), t)
                < self.namespace_delete_after
            ):
                continue
            for (gv, plural), store in self.objects.items():
                for ons, oname in [k for k in store if k[0] == name]:
                    self._drop(gv, plural, ons, oname)
            self._drop("v1", "namespaces", "", name)

    def _statefulsets(self, t: float) -> None:
        pods = self._store("v1", "pods")
        sets = self._store("apps/v1", "statefulsets")
        for (ns, name), sts in list(sets.items()):
            replicas = int(sts.get("spec", {}).get("replicas", 1))
            template = sts["spec"]["template"]
            ready = 0
            for ordinal in range(replicas):
                pod_name = f"{name}-{ordinal}"
                pod = pods.get((ns, pod_name))
                if pod is None:
                    self._timers[("v1", "pods", ns, pod_name)] = t
                    self._put("v1", "pods", ns, self._new_pod(ns, pod_name, sts, template), "ADDED")
                elif pod["status"].get("phase") == "Running":
                    ready += 1
            status = {"replicas": replicas, "readyReplicas": ready}
            if sts.get("status") != status:
                sts["status"] = status
                self._emit("apps/v1", "statefulsets", ns, "MODIFIED", sts)
        for (ns, pod_name), pod in list(pods.items()):
            owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("name")
            if owner and (ns, owner) not in sets:
                self._drop("v1", "pods", ns, pod_name)

    def _new_pod(self, ns: str, name: str, sts: Obj, template: Obj) -> Obj:
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels["statefulset.kubernetes.io/pod-name"] = name
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": str(uuid.uuid4()),
                "labels": labels,
                "creationTimestamp": _now_rfc3339(),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": sts["metadata"]["name"],
                    }
                ],
            },
            "spec": copy.deepcopy(template.get("spec", {})),
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]},
        }

    # --- the scheduler and the kubelet ------------------------------------------------------

    def node_name(self, i: int) -> str:
        """Node ``i`` (1-based): ``node_names`` if given (k3s names nodes after their
        servers' hostnames), else ``fake-node-i``."""
        return self.node_names[i - 1] if self.node_names else f"fake-node-{i}"

    def placement(self, ordinal: int) -> int:
        """The node (1-based) the scheduler gives ``ordinal`` the first time: a seeded
        shuffle, since preferred anti-affinity spreads pods but never in ordinal order
        (kube-scheduler scores nodes; ties are broken at random)."""
        order = list(range(1, max(1, self.nodes) + 1))
        random.Random(self.schedule_seed).shuffle(order)
        return order[ordinal % len(order)]

    def _bind(self, ns: str, name: str, pod: Obj) -> str | None:
        """Schedule a Pending pod: once placed, a pod name stays on its node (its local-path
        volume's node affinity), so a cordoned node keeps it Pending, as the real
        scheduler reports it."""
        ordinal = int(name.rsplit("-", 1)[-1]) if name.rsplit("-", 1)[-1].isdigit() else 0
        host = self.bound.setdefault((ns, name), self.node_name(self.placement(ordinal)))
        if host in self.unschedulable:
            condition = {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": f"0/{self.nodes} nodes are available: 1 node(s) were unschedulable, "
                f"{self.nodes - 1} node(s) had volume node affinity conflict.",
            }
            if condition not in pod["status"].get("conditions", []):
                pod["status"]["conditions"] = [
                    condition,
                    {"type": "Ready", "status": "False"},
                ]
                self._emit("v1", "pods", ns, "MODIFIED", pod)
            return None
        if pod["spec"].get("nodeName") != host:
            pod["spec"]["nodeName"] = host
            pod["status"]["conditions"] = [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False"},
            ]
            self._timers[("v1", "pods", ns, name)] = time.monotonic()
            self._emit("v1", "pods", ns, "MODIFIED", pod)
        return host

    def _pods(self, t: float) -> None:
        for (ns, name), pod in list(self._store("v1", "pods").items()):
            if pod["status"].get("phase") != "Pending":
                continue
            host = self._bind(ns, name, pod)
            if host is None:
                continue
            if self.pod_waiting_reason:
                waiting = {"waiting": {"reason": self.pod_waiting_reason, "message": "x"}}
                statuses = [
                    {"name": "cockroachdb", "ready": False, "restartCount": 0, "state": waiting}
                ]
                if pod["status"].get("containerStatuses") != statuses:
                    pod["status"]["containerStatuses"] = statuses
                    self._emit("v1", "pods", ns, "MODIFIED", pod)
                continue
            if t - self._timers.get(("v1", "pods", ns, name), t) < self.pod_ready_after:
                continue
            node = next(i for i in range(1, self.nodes + 1) if self.node_name(i) == host)
            ordinal = int(name.rsplit("-", 1)[-1]) if name.rsplit("-", 1)[-1].isdigit() else 0
            pod["status"] = {
                "phase": "Running",
                "hostIP": f"10.0.0.{10 + node}",
                "podIP": f"10.42.{node}.{10 + ordinal}",
                "conditions": [
                    {"type": "PodScheduled", "status": "True"},
                    {"type": "Ready", "status": "True"},
                ],
                "containerStatuses": [
                    {"name": "cockroachdb", "ready": True, "restartCount": 0, "image": "x"}
                ],
            }
            self._emit("v1", "pods", ns, "MODIFIED", pod)

    def _jobs(self, t: float) -> None:
        for (ns, name), job in list(self._store("batch/v1", "jobs").items()):
            if job.get("status", {}).get("succeeded"):
                continue
            if t - self._timers.get(("batch/v1", "jobs", ns, name), t) < self.job_complete_after:
                continue
            job["status"] = {
                "succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}],
            }
            self._emit("batch/v1", "jobs", ns, "MODIFIED", job)
