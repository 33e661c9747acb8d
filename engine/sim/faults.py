"""What each fault does to one rehearsal cloud, step by step, with the real systems' timing.

Each timeline runs on the demo clock (``ctx.clock``) as its own task, tells the simulated
cluster when a CockroachDB process stops or starts, and publishes what Kubernetes would
report about the pods (``PodObserved``) and whether the cloud's Kubernetes API answers
(``CloudApiObserved``). Every delay is drawn from the cloud's random stream, so a run is
reproducible. Sources of the timings (see also ``docs/kubernetes.md``, "Kills"):

- Pod deletion (graceful): the kubelet sends SIGTERM, CockroachDB drains and exits
  (``docs/v25.2/node-shutdown.md``); the StatefulSet controller creates the pod again only
  once the old one is gone (``pkg/controller/statefulset/stateful_set_control.go``), on
  the same node (the local-path volume is pinned there), and the kubelet starts it with
  the image already present.
- Cordon + delete: the new pod stays Pending ("0/3 nodes are available: 1 node(s) were
  unschedulable") until uncordoned; then the scheduler binds it at once (node updates
  move unschedulable pods back to the active queue).
- A stopped VM: nothing tells Kubernetes; the node stays Ready and its pods "Running"
  until ``node-monitor-grace-period`` (kube-controller-manager: 50 s since Kubernetes
  1.32, kubernetes/kubernetes#126287; 40 s before) passes without a kubelet heartbeat;
  then the node is NotReady and its pods are not ready. A StatefulSet pod on it is never
  replaced (kubernetes/kubernetes#54368). Server 1 runs the k3s server: stopping it
  takes the cloud's Kubernetes API away.
- A crash (SIGKILL of ``cockroach start`` over SSH): no drain; the container's main
  process is gone, so the kubelet restarts the container at once (the first restart has
  no back-off, pkg/kubelet/kuberuntime ``doBackOff``), same pod, same store, same node ID,
  the pod's restart count one higher.
- A freeze (SIGSTOP): the process holds its pid, ports and connections but does nothing;
  Kubernetes sees a running container until the readiness probe (period 5 s, failure
  threshold 2, ``engine.kube.manifests``) marks it not ready; SIGCONT resumes it.
- A partition: the cut-off nodes' heartbeats stop reaching the liveness range's quorum
  (``SimCluster.partition_cloud``); their readiness probes (``/health?ready=1``) fail
  once their own liveness has expired.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.clock import Clock
from engine.events import CloudApiObserved, EventSink, PodObserved
from engine.sim.cluster import SimCluster
from engine.targets import node_name

DRAIN_S = (1.0, 3.0)
"""SIGTERM to exit: CockroachDB's drain on a small node (no initial_wait by default)."""
RECREATE_S = (1.0, 2.5)
"""Old pod gone to new container started: controller, scheduler, kubelet, image present."""
RESCHEDULE_S = (1.0, 3.0)
"""Uncordon to container started: the scheduler retries the Pending pod, kubelet starts it."""
SHUTDOWN_S = (2.0, 6.0)
"""``openstack server stop`` to the guest being off (ACPI power-down)."""
NODE_MONITOR_GRACE_S = 50.0
"""kube-controller-manager ``--node-monitor-grace-period`` default since 1.32 (what a k3s
installed today runs); 40 s before."""
BOOT_S = (25.0, 60.0)
"""``openstack server start`` to k3s and the kubelet running again."""
CONTAINER_RESTART_S = (0.5, 1.5)
"""Main process killed to the container started again (kubelet sync, image present)."""
UNREADY_AFTER_S = 10.0
"""Readiness probe period 5 s x failure threshold 2: a silent node's pod goes not ready."""
READY_AFTER_S = (1.0, 5.0)
"""The next readiness probe after the node answers again (period 5 s)."""


@dataclass
class SimFaults:
    """The fault state of one rehearsal cloud: which servers are off, which nodes cordoned.

    ``generation`` per node makes a late step of an old timeline a no-op once a newer
    kill or revive of the same node has started.
    """

    cloud: str
    cluster: SimCluster
    stopped: set[int] = field(default_factory=set)
    cordoned: set[int] = field(default_factory=set)
    frozen: set[int] = field(default_factory=set)
    restarts: dict[int, int] = field(default_factory=dict)
    generation: dict[int, int] = field(default_factory=dict)
    partition_generation: int = 0

    def _bump(self, index: int) -> int:
        self.generation[index] = self.generation.get(index, 0) + 1
        return self.generation[index]

    def _pod(self, index: int, phase: str, ready: bool, restarts: int = 0) -> PodObserved:
        return PodObserved(
            cloud=self.cloud,
            pod=node_name(self.cloud, index),
            phase=phase,
            ready=ready,
            restarts=restarts,
            host=f"{self.cloud}-server-{index}",
        )

    # --- the faults ---------------------------------------------------------------------

    async def restart_pod(
        self, index: int, clock: Clock, rng: random.Random, emit: EventSink
    ) -> None:
        """Graceful delete: drain, exit, the same pod name back on the same node."""
        if index in self.stopped or index in self.cordoned:
            return  # nothing running to restart; it comes back with its server or uncordon
        gen = self._bump(index)
        node = node_name(self.cloud, index)
        emit(self._pod(index, "Terminating", ready=False))
        await clock.sleep(rng.uniform(*DRAIN_S))
        if self.generation.get(index) != gen:
            return
        self.cluster.kill_node(node, clock.now())
        emit(self._pod(index, "Deleted", ready=False))
        emit(self._pod(index, "Pending", ready=False))
        await clock.sleep(rng.uniform(*RECREATE_S))
        if self.generation.get(index) != gen:
            return
        self.cluster.revive_node(node, clock.now())
        emit(self._pod(index, "Running", ready=True))

    async def stop_node(self, index: int, clock: Clock, emit: EventSink) -> None:
        """Cordon, delete the pod (grace 0): it stays Pending until ``start_node``."""
        self._bump(index)
        self.cordoned.add(index)
        if index in self.stopped:
            return
        self.cluster.kill_node(node_name(self.cloud, index), clock.now())
        emit(self._pod(index, "Deleted", ready=False))
        emit(self._pod(index, "Pending", ready=False))

    async def start_node(
        self, index: int, clock: Clock, rng: random.Random, emit: EventSink
    ) -> None:
        """Uncordon: the Pending pod is scheduled and started again."""
        if index not in self.cordoned:
            return
        gen = self._bump(index)
        self.cordoned.discard(index)
        if index in self.stopped:
            return
        await clock.sleep(rng.uniform(*RESCHEDULE_S))
        if self.generation.get(index) != gen:
            return
        self.cluster.revive_node(node_name(self.cloud, index), clock.now())
        emit(self._pod(index, "Running", ready=True))

    async def stop_servers(
        self, indexes: Iterable[int], clock: Clock, rng: random.Random, emit: EventSink
    ) -> None:
        """Power off: processes die with the guest; Kubernetes notices only after the grace."""
        hit = [i for i in indexes if i not in self.stopped]
        gens = {i: self._bump(i) for i in hit}
        self.stopped.update(hit)
        if 1 in hit:
            emit(CloudApiObserved(cloud=self.cloud, reachable=False, detail="server 1 stopped"))
        offsets = sorted((rng.uniform(*SHUTDOWN_S), i) for i in hit)
        waited = 0.0
        for due, i in offsets:
            await clock.sleep(due - waited)
            waited = due
            if self.generation.get(i) == gens[i]:
                self.cluster.kill_node(node_name(self.cloud, i), clock.now())
        await clock.sleep(max(0.0, NODE_MONITOR_GRACE_S - waited))
        if 1 in self.stopped:
            return  # no API to mark anything NotReady, and nobody to ask
        for i in hit:
            if self.generation.get(i) == gens[i]:
                emit(self._pod(i, "Running", ready=False))

    async def start_servers(
        self, indexes: Iterable[int], clock: Clock, rng: random.Random, emit: EventSink
    ) -> None:
        """Power on: boot, k3s back, the kubelet restarts the same pod's container."""
        back = [i for i in indexes if i in self.stopped]
        gens = {i: self._bump(i) for i in back}
        offsets = sorted((rng.uniform(*BOOT_S), i) for i in back)
        waited = 0.0
        for due, i in offsets:
            await clock.sleep(due - waited)
            waited = due
            if self.generation.get(i) != gens[i]:
                continue
            self.stopped.discard(i)
            if i == 1:
                emit(CloudApiObserved(cloud=self.cloud, reachable=True, detail="server 1 is up"))
            if i not in self.cordoned:
                self.cluster.revive_node(node_name(self.cloud, i), clock.now())
                emit(self._pod(i, "Running", ready=True, restarts=1))

    async def crash(self, index: int, clock: Clock, rng: random.Random, emit: EventSink) -> None:
        """SIGKILL of the process: down at once, the kubelet starts the container again."""
        if index in self.stopped or index in self.cordoned:
            return  # no process to kill
        gen = self._bump(index)
        self.frozen.discard(index)
        node = node_name(self.cloud, index)
        self.cluster.kill_node(node, clock.now())
        self.restarts[index] = self.restarts.get(index, 0) + 1
        emit(self._pod(index, "Running", ready=False, restarts=self.restarts[index]))
        await clock.sleep(rng.uniform(*CONTAINER_RESTART_S))
        if self.generation.get(index) != gen:
            return
        self.cluster.revive_node(node, clock.now())
        await clock.sleep(rng.uniform(*READY_AFTER_S))
        if self.generation.get(index) == gen:
            emit(self._pod(index, "Running", ready=True, restarts=self.restarts[index]))

    async def freeze(self, index: int, clock: Clock, emit: EventSink) -> None:
        """SIGSTOP: silent to the cluster now, not ready to Kubernetes after its probes."""
        if index in self.stopped or index in self.cordoned or index in self.frozen:
            return
        gen = self._bump(index)
        self.frozen.add(index)
        self.cluster.freeze_node(node_name(self.cloud, index), clock.now())
        await clock.sleep(UNREADY_AFTER_S)
        if self.generation.get(index) == gen:
            emit(self._pod(index, "Running", ready=False, restarts=self.restarts.get(index, 0)))

    async def thaw(self, index: int, clock: Clock, rng: random.Random, emit: EventSink) -> None:
        """SIGCONT: the process carries on; ready again at the next probe."""
        if index not in self.frozen:
            return
        gen = self._bump(index)
        self.frozen.discard(index)
        self.cluster.thaw_node(node_name(self.cloud, index), clock.now())
        await clock.sleep(rng.uniform(*READY_AFTER_S))
        if self.generation.get(index) == gen:
            emit(self._pod(index, "Running", ready=True, restarts=self.restarts.get(index, 0)))

    async def partition(
        self, indexes: Iterable[int], cut: bool, clock: Clock, rng: random.Random, emit: EventSink
    ) -> None:
        """Cut the cloud off (or heal it); its pods' readiness follows their liveness."""
        self.partition_generation += 1
        gen = self.partition_generation
        if cut:
            self.cluster.partition_cloud(self.cloud, clock.now())
            await clock.sleep(UNREADY_AFTER_S + 6.0)  # liveness expired (6 s), then probes
        else:
            self.cluster.heal_cloud(self.cloud, clock.now())
            await clock.sleep(rng.uniform(*READY_AFTER_S) + 1.5)
        if self.partition_generation != gen:
            return
        for i in indexes:
            if i in self.stopped or i in self.cordoned or i in self.frozen:
                continue
            ready = not cut or self.cluster.liveness(node_name(self.cloud, i)) == "live"
            emit(self._pod(i, "Running", ready=ready, restarts=self.restarts.get(i, 0)))
