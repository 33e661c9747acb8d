"""The run's ledger: every cloud resource, written down the moment it exists.

Teardown reads this file, not memory, so it still works after a crash or ``kill -9``.
Appends are tiny and flushed at once; each line is one JSON object, so a torn last
line (a crash mid-write) is skipped on load rather than losing the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class LedgerRecord:
    cloud: str
    resource_type: str
    resource_id: str
    name: str = ""
    step: str = ""
    meta: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.meta:
            if k == key:
                return v
        return default


class Ledger:
    """Append-only file of created and deleted resources; ``live()`` is what still exists."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._live: dict[tuple[str, str, str], LedgerRecord] = {}
        self._file: IO[str] | None = None
        if path.exists():
            self._load()

    def _load(self) -> None:
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self._apply(data)

    def _apply(self, data: dict[str, Any]) -> None:
        key = (str(data["cloud"]), str(data["resource_type"]), str(data["resource_id"]))
        if data.get("op") == "deleted":
            self._live.pop(key, None)
            return
        meta = tuple((str(k), str(v)) for k, v in dict(data.get("meta") or {}).items())
        self._live[key] = LedgerRecord(
            cloud=key[0],
            resource_type=key[1],
            resource_id=key[2],
            name=str(data.get("name", "")),
            step=str(data.get("step", "")),
            meta=meta,
        )

    def _append(self, data: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._file.write(json.dumps(data, sort_keys=True) + "\n")
        self._file.flush()
        self._apply(data)

    def record(self, rec: LedgerRecord) -> None:
        self._append(
            {
                "op": "created",
                "cloud": rec.cloud,
                "resource_type": rec.resource_type,
                "resource_id": rec.resource_id,
                "name": rec.name,
                "step": rec.step,
                "meta": dict(rec.meta),
            }
        )

    def forget(self, cloud: str, resource_type: str, resource_id: str) -> None:
        if (cloud, resource_type, resource_id) not in self._live:
            return
        self._append(
            {
                "op": "deleted",
                "cloud": cloud,
                "resource_type": resource_type,
                "resource_id": resource_id,
            }
        )

    def live(self, cloud: str | None = None, step: str | None = None) -> list[LedgerRecord]:
        """Resources still standing, oldest first (teardown walks this backwards)."""
        return [
            r
            for r in self._live.values()
            if (cloud is None or r.cloud == cloud) and (step is None or r.step == step)
        ]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
