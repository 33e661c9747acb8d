"""URL checks meet URLs that make ``urllib.parse`` raise (a lone bracket, a bad port): each is
one problem line, never an exception (found by the mangled-example property test)."""

from __future__ import annotations

import pytest

from engine.config.checks import install_url
from engine.providers.openstack.errors import endpoint_of, service_of


@pytest.mark.parametrize("url", ["https://[", "https://]x", "http://host:99999/", "http://h:x/"])
def test_a_url_urllib_cannot_split_is_a_problem_line(url: str) -> None:
    problem = install_url(url)
    assert problem is not None and "not an http(s) URL" in problem


def test_a_good_install_url_passes() -> None:
    assert install_url("https://get.k3s.io") is None


@pytest.mark.parametrize("url", ["https://[", "http://compute:99999/v2"])
def test_error_wording_survives_a_broken_sdk_url(url: str) -> None:
    assert service_of(url) == "cloud"
    assert isinstance(endpoint_of(url), str)
