"""`crossroom run` on clouds that bring their own Kubernetes, against the fake API server:
deploy, watch pods, kill one, tear down, all through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main

from .fake_apiserver import FakeApiServer


def demo_file(tmp_path: Path, kubeconfig: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(
        f"""
name: existing clusters
cluster:
  join_timeout_s: 4
workload:
  enabled: false
defaults:
  servers: 2
  kubernetes: {{mode: existing, kubeconfig: {kubeconfig}, context: fake}}
clouds:
  - name: alpha
  - name: beta
""",
        encoding="utf-8",
    )
    return path


def test_deploy_watch_kill_and_teardown_headless(
    tmp_path: Path,
    kubeconfig: Path,
    fake_api: FakeApiServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "report.json"
    code = main(
        [
            "run",
            "--config",
            str(demo_file(tmp_path, kubeconfig)),
            "--kill",
            "alpha/node-2@0",
            "--teardown",
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    # no CockroachDB runs behind the fake API, so the cluster never reports the nodes live
    assert code == 1
    data = json.loads(report.read_text())
    steps = {s["name"]: s["status"] for s in data["clouds"][0]["steps"]}
    assert steps["servers"] == "skipped"
    assert steps["kubernetes"] == "done" and steps["cockroach"] == "done"
    assert steps["join"] == "failed"
    assert data["kills"][0]["target"] == "alpha/node-2"
    assert not data["kills"][0]["error"]
    assert "pod alpha/node-2 Running, ready" in out
    assert "KILL alpha/node-2" in out
    assert "alpha         teardown finished: nothing left" in out
    assert "beta          teardown finished: nothing left" in out
    # ... and, as `crossroom teardown` does, what was removed per cloud and kind
    summary = out.split(f"teardown of run {data['run_id']}:")[1]
    assert "alpha: " in summary and "beta: " in summary and "removed" in summary
    namespaces = fake_api.cluster._store("v1", "namespaces")
    assert not [key for key in namespaces if "crossroom" in key[1]]
