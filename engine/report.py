"""The run report: time to join per cloud, step times, and what each kill did.

Built from the folded state alone, so a live run, a replay and a headless run give the
same report for the same events.
"""

from __future__ import annotations

from typing import Any

from engine.state import KillRecord, RoomState

JOIN_STATUS = {"joined": "joined", "failed": "failed", "cancelled": "cancelled"}


def _after(t: float | None, at: float) -> float | None:
    return None if t is None else round(t - at, 3)


def kill_row(k: KillRecord) -> dict[str, Any]:
    return {
        "target": k.target,
        "kind": k.target_kind,
        "nodes": list(k.nodes),
        "at_s": round(k.at_t, 3),
        "probe_down_after_s": _after(k.probe_down_t, k.at_t),
        "suspect_after_s": _after(k.suspect_t, k.at_t),
        "dead_after_s": _after(k.dead_t, k.at_t),
        "back_after_s": _after(k.back_t, k.at_t),
        "healed_after_s": _after(k.healed_t, k.at_t),
        "error": k.error,
    }


def build_report(state: RoomState, wall_s: float) -> dict[str, Any]:
    clouds = []
    for c in state.cloud_list():
        clouds.append(
            {
                "name": c.name,
                "label": c.label,
                "status": JOIN_STATUS.get(c.status, c.status),
                "time_to_join_s": None if c.time_to_join_s is None else round(c.time_to_join_s, 3),
                "error": c.error,
                "steps": [
                    {
                        "name": s.name,
                        "status": s.status,
                        "duration_s": None if s.duration_s is None else round(s.duration_s, 3),
                        "attempts": s.attempt,
                    }
                    for s in c.steps
                ],
            }
        )
    return {
        "run_id": state.run_id,
        "demo": state.demo,
        "simulated": state.simulated,
        "speed": state.speed,
        "wall_s": round(wall_s, 3),
        "demo_s": round(state.t, 3),
        "clouds": clouds,
        "kills": [kill_row(k) for k in state.kills],
        "cluster": {
            "nodes_live": state.count("live"),
            "nodes_suspect": state.count("suspect"),
            "nodes_dead": state.count("dead"),
            "under_replicated": state.health.under_replicated,
            "unavailable": state.health.unavailable,
            "workload_errors": state.workload.errors_total,
        },
    }
