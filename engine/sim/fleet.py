"""The built-in rehearsal fleet: the 15 clouds of the 2017 stage, simulated.

Each cloud has its own latency profile, so that, as on stage, some clouds are done in
a minute or two and the Beijing cloud takes several. Durations are demo seconds; the
default rehearsal speed plays the whole fleet in about one to two real minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.model import CloudConfig, DemoConfig, SimConfig


@dataclass(frozen=True)
class LatencyProfile:
    """Ranges the simulated cloud draws from; ``slowness`` (0..1) places it inside them."""

    slowness: float
    api_s: tuple[float, float] = (0.05, 0.8)
    boot_s: tuple[float, float] = (20.0, 120.0)
    kubernetes_s: tuple[float, float] = (60.0, 240.0)
    image_pull_s: tuple[float, float] = (10.0, 90.0)

    def pick(self, bounds: tuple[float, float], jitter: float) -> float:
        """A duration inside ``bounds``: mostly set by slowness, ``jitter`` (0..1) adds spread."""
        low, high = bounds
        place = min(1.0, max(0.0, 0.8 * self.slowness + 0.2 * jitter))
        return low + (high - low) * place


REHEARSAL_CLOUDS: tuple[tuple[str, str, str, float], ...] = (
    # slug, label on stage, region, slowness
    ("canonical", "Canonical", "London", 0.25),
    ("easystack", "EasyStack", "Beijing", 1.0),
    ("huawei", "Huawei", "Shenzhen", 0.45),
    ("ibm", "IBM", "Dallas", 0.3),
    ("netapp", "NetApp", "Sunnyvale", 0.35),
    ("otc", "Open Telekom Cloud", "Magdeburg", 0.4),
    ("platform9", "Platform9", "Mountain View", 0.15),
    ("rackspace", "Rackspace", "Chicago", 0.2),
    ("redhat", "Red Hat", "Raleigh", 0.3),
    ("suse", "SUSE", "Nuremberg", 0.5),
    ("t2cloud", "T2 Cloud", "Beijing", 0.7),
    ("vexxhost", "Vexxhost", "Montreal", 0.1),
    ("vmware", "VMware", "Palo Alto", 0.35),
    ("windriver", "Wind River", "Ottawa", 0.55),
    ("zte", "ZTE", "Nanjing", 0.65),
)


def rehearsal_demo() -> DemoConfig:
    """The demo ``crossroom`` runs when no ``--config`` is given."""
    clouds = tuple(
        CloudConfig(
            name=slug,
            label=label,
            region=region,
            locality=f"region={region.lower().replace(' ', '-')}",
            provider="sim",
            sim=SimConfig(slowness=slowness),
        )
        for slug, label, region, slowness in REHEARSAL_CLOUDS
    )
    return DemoConfig(name="OpenStack Interop Challenge (rehearsal)", clouds=clouds)


def profile_for(cloud: CloudConfig) -> LatencyProfile:
    """A cloud's profile: its ``sim.slowness`` if set, else the built-in one, else middling."""
    if cloud.sim.slowness is not None:
        return LatencyProfile(slowness=min(1.0, max(0.0, cloud.sim.slowness)))
    for slug, _label, _region, slowness in REHEARSAL_CLOUDS:
        if slug == cloud.name:
            return LatencyProfile(slowness=slowness)
    return LatencyProfile(slowness=0.4)
