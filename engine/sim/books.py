"""What exists in the simulated clouds: the rehearsal's equivalent of each cloud's API.

Tests read these books to prove teardown leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SimResource:
    cloud: str
    resource_type: str
    resource_id: str
    name: str
    status: str = "ACTIVE"


@dataclass
class SimBooks:
    """Resources by id, across every simulated cloud; ids are unique and never reused.

    Counters are per cloud, so a cloud run alone gets the same ids as in the fleet."""

    resources: dict[str, SimResource] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def create(self, cloud: str, resource_type: str, name: str) -> SimResource:
        """Idempotent by (cloud, type, name), like a step that finds what it made before."""
        existing = self.find(cloud, resource_type, name)
        if existing is not None:
            return existing
        n = self._counters.get(cloud, 0) + 1
        self._counters[cloud] = n
        res = SimResource(cloud, resource_type, f"{cloud}-{resource_type}-{n:04d}", name)
        self.resources[res.resource_id] = res
        return res

    def find(self, cloud: str, resource_type: str, name: str) -> SimResource | None:
        for res in self.resources.values():
            if res.cloud == cloud and res.resource_type == resource_type and res.name == name:
                return res
        return None

    def delete(self, resource_id: str) -> bool:
        return self.resources.pop(resource_id, None) is not None

    def of(self, cloud: str | None = None) -> list[SimResource]:
        return [r for r in self.resources.values() if cloud is None or r.cloud == cloud]
