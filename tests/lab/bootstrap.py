#!/usr/bin/env python3
"""Idempotent catalog and resource bootstrap for crossroom's test lab (run by up.sh).

  bootstrap.py catalog [volumev3]  -> services + endpoints, role 'service' for admin
  bootstrap.py resources           -> flavors, image, external network, and the tenant
                                      projects lab-a, lab-b, lab-q with their own user,
                                      network, subnet and router; writes clouds.yaml
                                      (no secrets) and secure.yaml (passwords, 0600)

Runs as the lab admin (``OS_CLIENT_CONFIG_FILE=<lab>/admin-clouds.yaml``). The tenant
projects are what the tests use: a normal member sees only its own project, the way a
user of a public cloud does. ``lab-q`` has a quota of one instance so the quota test has
something real to hit.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

import openstack
import yaml

HERE = Path(__file__).resolve().parent
LAB = Path(os.environ.get("CROSSROOM_LAB_DIR", HERE / ".lab"))
os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(LAB / "admin-clouds.yaml"))
REGION = "RegionOne"
AUTH_URL = "http://127.0.0.1:5000/v3"

SERVICES = [
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
    ("glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    # only with an explicit "catalog volumev3" (up.sh does it once cinder answers)
    ("cinderv3", "volumev3", "http://127.0.0.1:8776/v3/%(project_id)s"),
]

TENANTS = {
    # clouds.yaml name: compute quota overrides (None: the defaults)
    "lab-a": None,
    "lab-b": None,
    "lab-q": {"instances": 1},
}


def conn() -> openstack.connection.Connection:
    return openstack.connect(cloud="lab-admin")


def catalog(only: list[str] | None = None) -> None:
    c = conn()
    # nova sends a service token to cinder (cinder's OSSA-2023-003 fix for detaching)
    role = c.identity.find_role("service") or c.identity.create_role(name="service")
    user = c.identity.find_user("admin", domain_id="default")
    proj = c.identity.find_project("admin", domain_id="default")
    if not c.identity.validate_user_has_project_role(proj, user, role):
        c.identity.assign_project_role_to_user(proj, user, role)
    for name, stype, url in SERVICES:
        if only and stype not in only:
            continue
        if not only and stype == "volumev3":
            continue
        svc = next((s for s in c.identity.services() if s.type == stype), None)
        if svc is None:
            svc = c.identity.create_service(name=name, type=stype, is_enabled=True)
            print("created service", name)
        have = {e.interface: e for e in c.identity.endpoints(service_id=svc.id)}
        for iface in ("public", "internal", "admin"):
            if iface in have:
                if have[iface].url != url:
                    c.identity.update_endpoint(have[iface], url=url)
                continue
            c.identity.create_endpoint(
                service_id=svc.id, interface=iface, url=url, region_id=REGION
            )


def ensure_image(c: openstack.connection.Connection, name: str, path: Path) -> None:
    img = c.image.find_image(name)
    if img is not None and img.status == "active":
        return
    if img is not None:
        c.image.delete_image(img)
    if not path.exists():
        path.write_bytes(b"\0" * (1024 * 1024))  # the fake virt driver never reads it
    c.create_image(
        name,
        filename=str(path),
        disk_format="raw",
        container_format="bare",
        visibility="public",
        wait=True,
        timeout=120,
    )
    print("created image", name)


def ensure_tenant(c, ext, cloud: str, quota: dict[str, int] | None, password: str) -> None:
    """Project, member user, network + subnet + router (documentation ranges only)."""
    pname = f"crossroom-{cloud}"
    proj = c.identity.find_project(pname, domain_id="default")
    if proj is None:
        proj = c.identity.create_project(name=pname, domain_id="default")
    user = c.identity.find_user(pname, domain_id="default")
    if user is None:
        user = c.identity.create_user(
            name=pname, password=password, domain_id="default", default_project_id=proj.id
        )
    else:
        c.identity.update_user(user, password=password)
    member = c.identity.find_role("member")
    if not c.identity.validate_user_has_project_role(proj, user, member):
        c.identity.assign_project_role_to_user(proj, user, member)
    nets = list(c.network.networks(name="private", project_id=proj.id))
    net = nets[0] if nets else c.network.create_network(name="private", project_id=proj.id)
    subs = list(c.network.subnets(name="private-subnet", project_id=proj.id))
    sub = (
        subs[0]
        if subs
        else c.network.create_subnet(
            name="private-subnet",
            network_id=net.id,
            project_id=proj.id,
            ip_version=4,
            cidr="192.0.2.0/24",
            gateway_ip="192.0.2.1",
            enable_dhcp=True,
        )
    )
    routers = list(c.network.routers(name="router1", project_id=proj.id))
    rtr = (
        routers[0]
        if routers
        else c.network.create_router(
            name="router1", project_id=proj.id, external_gateway_info={"network_id": ext.id}
        )
    )
    ports = list(c.network.ports(device_id=rtr.id, device_owner="network:router_interface"))
    if not any(ip["subnet_id"] == sub.id for p in ports for ip in p.fixed_ips):
        c.network.add_interface_to_router(rtr, subnet_id=sub.id)
    if quota:
        c.set_compute_quotas(proj.id, **quota)
    print(f"tenant {cloud}: project {pname} ready")


def write_clouds(passwords: dict[str, str]) -> None:
    clouds = {
        name: {
            "auth": {
                "auth_url": AUTH_URL,
                "username": f"crossroom-{name}",
                "project_name": f"crossroom-{name}",
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": REGION,
            "interface": "public",
            "identity_api_version": 3,
        }
        for name in TENANTS
    }
    (LAB / "clouds.yaml").write_text(yaml.safe_dump({"clouds": clouds}, sort_keys=True))
    secure = {name: {"auth": {"password": pw}} for name, pw in passwords.items()}
    path = LAB / "secure.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(yaml.safe_dump({"clouds": secure}, sort_keys=True))


def known_passwords() -> dict[str, str]:
    path = LAB / "secure.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {k: v["auth"]["password"] for k, v in (data.get("clouds") or {}).items()}


def resources() -> None:
    c = conn()
    t = time.time()
    if not c.compute.find_flavor("m1.tiny"):
        c.compute.create_flavor(name="m1.tiny", ram=64, vcpus=1, disk=1, id="1")
    if not c.compute.find_flavor("m1.small"):
        c.compute.create_flavor(name="m1.small", ram=512, vcpus=1, disk=1, id="2")
    ensure_image(c, "fake-raw", LAB / "data" / "fake-raw.img")
    ext = c.network.find_network("public")
    if ext is None:
        ext = c.network.create_network(
            name="public",
            is_router_external=True,
            provider_network_type="flat",
            provider_physical_network="physnet1",
        )
    if not c.network.find_subnet("public-subnet"):
        c.network.create_subnet(
            name="public-subnet",
            network_id=ext.id,
            ip_version=4,
            cidr="198.51.100.0/24",
            gateway_ip="198.51.100.1",
            enable_dhcp=False,
            allocation_pools=[{"start": "198.51.100.10", "end": "198.51.100.250"}],
        )
    passwords = known_passwords()
    for cloud, quota in TENANTS.items():
        passwords.setdefault(cloud, "xr-lab-" + secrets.token_urlsafe(18))
        ensure_tenant(c, ext, cloud, quota, passwords[cloud])
    write_clouds(passwords)
    print(f"resources ready in {time.time() - t:.1f}s")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "catalog":
        catalog(sys.argv[2:] or None)
    elif what == "resources":
        resources()
    else:
        sys.exit("usage: bootstrap.py catalog [volumev3] | resources")
