"""No secret reaches the screen: not from the demo config, clouds.yaml, or engine lines.

The demo config carries a private key path and a token (in the k3s installer URL), the
user's clouds.yaml a password, a token and a client key path; the show runs, a cloud is
zoomed and the help is opened, and no screen's text may contain any of them. Separately,
events that leak a password, a token and a PEM key into log lines, errors and notices
must reach the screen redacted.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import run_started
from textual.pilot import Pilot

from engine import events as ev
from engine.config.model import KubernetesConfig
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.sim.fleet import rehearsal_demo
from tui.app import RoomApp

pytestmark = pytest.mark.anyio

PASSWORD = "Pa55w0rd-x9Q2"
TOKEN = "gAAAAABtoken-7f3e9c"
KEY_PATH = "/home/presenter/.ssh/stage_id_ed25519"
KEY_BODY = "MIIEowIBAAKCAQEAsecretkeymaterial"
SECRETS = (PASSWORD, TOKEN, KEY_PATH, KEY_BODY)


def screen_text(app: RoomApp) -> str:
    """Everything on screen, as the SVG export has it (spaces become &#160;)."""
    return app.export_screenshot().replace("&#160;", " ")


def assert_clean(app: RoomApp, where: str) -> None:
    text = screen_text(app)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} on screen ({where})"


async def wait(pilot: Pilot[Any], check: Any, seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def test_config_secrets_never_reach_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(
        "clouds:\n"
        "  vexxhost:\n"
        "    auth:\n"
        "      auth_url: https://auth.vexxhost.example:5000/v3\n"
        "      username: presenter\n"
        f"      password: {PASSWORD}\n"
        "      project_name: interop\n"
        f"    token: {TOKEN}\n"
        f"    key: {KEY_PATH}\n"
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    demo = rehearsal_demo()
    k8s = KubernetesConfig(
        kubeconfig=Path(KEY_PATH), install_url=f"https://get.k3s.io/?token={TOKEN}"
    )
    demo = replace(
        demo.only(("vexxhost", "ibm", "rackspace")),
        clouds=tuple(
            replace(c, kubernetes=k8s) for c in demo.only(("vexxhost", "ibm", "rackspace")).clouds
        ),
    )
    options = RoomOptions(seed=2, speed=100.0, state_dir=tmp_path / "state")
    app = RoomApp(lambda: open_room(demo, options))
    async with app.run_test(size=(200, 60)) as pilot:
        await wait(pilot, lambda: bool(app.state.cloud_order), 10)
        await pilot.press("s")
        await wait(
            pilot,
            lambda: (
                all(c.status != "running" for c in app.state.cloud_list())
                and app.state.cloud_list()[0].status != "idle"
            ),
            60,
        )
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert_clean(app, "room 200x60")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert_clean(app, "room 80x24")
        await pilot.resize_terminal(160, 48)
        await pilot.press("enter")
        await pilot.pause(0.3)
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert_clean(app, "zoom")
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert_clean(app, "help")


async def test_leaked_secrets_in_events_are_redacted_on_screen() -> None:
    start = run_started(3)
    cloud = start.clouds[0].name
    leaks: list[ev.Event] = [
        start,
        ev.CloudStarted(cloud=cloud, t=1.0),
        ev.StepStarted(cloud=cloud, step="resolve", t=1.0),
        ev.LogLines(
            cloud=cloud,
            lines=(
                f"POST /v3/auth/tokens password={PASSWORD}",
                f"X-Auth-Token: {TOKEN}",
                f"-----BEGIN RSA PRIVATE KEY-----{KEY_BODY}-----END RSA PRIVATE KEY-----",
            ),
            t=1.5,
        ),
        ev.StepProgress(cloud=cloud, step="resolve", message=f"retry with token={TOKEN}", t=2.0),
        ev.Notice(
            level="warning", message=f"monitor: postgresql://root:{PASSWORD}@10.0.0.5", t=2.5
        ),
        ev.StepFailed(
            cloud=cloud, step="resolve", error=f"401: password={PASSWORD}", duration_s=2, t=3.0
        ),
    ]
    app = frozen_app(ScriptedRoom(leaks))
    async with app.run_test(size=(200, 60)) as pilot:
        await wait(pilot, lambda: app.state.t >= 3.0, 5)
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert_clean(app, "room 200x60")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert_clean(app, "room 80x24")
        await pilot.press("enter")
        await pilot.pause(0.3)
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert "redacted" in screen_text(app) or "***" in screen_text(app)
        assert_clean(app, "zoom")
