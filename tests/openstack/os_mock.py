"""A cloud at the HTTP boundary: real Keystone v3 token (openstacksdk's ConnectionFixture),
real discovery documents, and whatever each test registers in requests-mock."""

from __future__ import annotations

IDENTITY = "https://identity.example.com"
COMPUTE = "https://compute.example.com/v2.1"
NETWORK = "https://network.example.com"
PROJECT = "0c3e2e7d3f1c4c0c9a2b0e5d1f6a7b8c"
PASSWORD = "mock-password-Zq81"


def identity_root() -> dict[str, object]:
    return {
        "versions": {
            "values": [
                {
                    "id": "v3.14",
                    "status": "stable",
                    "updated": "2020-04-07T00:00:00Z",
                    "links": [{"href": f"{IDENTITY}/v3/", "rel": "self"}],
                    "media-types": [
                        {
                            "base": "application/json",
                            "type": "application/vnd.openstack.identity-v3+json",
                        }
                    ],
                }
            ]
        }
    }


def compute_root() -> dict[str, object]:
    return {
        "version": {
            "id": "v2.1",
            "status": "CURRENT",
            "version": "2.93",
            "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"href": f"{COMPUTE}/", "rel": "self"}],
        }
    }


def network_root() -> dict[str, object]:
    return {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": f"{NETWORK}/v2.0/", "rel": "self"}],
            }
        ]
    }
