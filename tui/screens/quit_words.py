"""What quitting a screen leaves behind, in words: the quit question and the lines printed
to the terminal after the screen closes.

Pure functions of the folded state, so the question, the printed lines and the tests
agree. Cloud labels are outside text: every one goes through ``shown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engine.rundir import state_dir
from engine.terminal_text import shown
from tui.look import counted

if TYPE_CHECKING:
    from engine.state import RoomState

QuitChoice = Literal["leave", "stop", "teardown"]
"""Leave the show running (detach), stop its engine (what it made stays), or tear down
first and then stop."""

NAMED_CLOUDS = 6
"""Clouds named in a line at most; the rest are counted (``… and 9 more``)."""


@dataclass(frozen=True)
class Holdings:
    """What a run holds in the clouds right now, as the screen last folded it."""

    run_id: str
    resources: tuple[tuple[str, int], ...]
    """(cloud label, resources) for each cloud that holds any, in the screen's order."""
    running: tuple[str, ...]
    tearing_down: tuple[str, ...]
    state_dir: str = ""
    """``--state-dir`` for the commands, when the run is not under the default one."""
    simulated: bool = False

    @property
    def total(self) -> int:
        return sum(n for _, n in self.resources)

    @property
    def matters(self) -> bool:
        """Quitting must ask: real clouds hold something, or are making or deleting it."""
        return not self.simulated and bool(self.resources or self.running or self.tearing_down)


def unasked_ending(h: Holdings) -> QuitChoice:
    """How a screen leaves when quitting does not ask: a rehearsal detaches (its engine
    stops once its last screen has left); a real show that holds and runs nothing is
    stopped, so no idle engine stays behind. (One that holds something, when there was
    no asking it, is left running: nothing of it is lost.)"""
    return "stop" if not h.simulated and not h.matters else "leave"


def holdings_of(state: RoomState) -> Holdings:
    clouds = state.cloud_list()
    return Holdings(
        run_id=state.run_id,
        resources=tuple((shown(c.label, 64), c.resources) for c in clouds if c.resources > 0),
        running=tuple(shown(c.label, 64) for c in clouds if c.status == "running"),
        tearing_down=tuple(shown(c.label, 64) for c in clouds if c.status == "tearing_down"),
        state_dir=_own_state_dir(state.run_dir),
        simulated=state.simulated,
    )


def _own_state_dir(run_dir: str) -> str:
    """The run's state directory when it is not the default one (empty otherwise)."""
    if not run_dir:
        return ""
    parent = Path(run_dir).parent.parent  # <state dir>/runs/<run id>
    try:
        default = state_dir().resolve()
    except (OSError, RuntimeError):  # no home directory: name the directory anyway
        return str(parent)
    return "" if parent.resolve() == default else str(parent)


def _with_state_dir(command: str, h: Holdings) -> str:
    if not h.state_dir:
        return command
    return f"{command} --state-dir {shown(h.state_dir)}"


def teardown_command(h: Holdings) -> str:
    """Tear down a run whose engine has stopped."""
    return _with_state_dir(f"crossroom teardown --run {h.run_id}", h)


def attach_command(h: Holdings) -> str:
    return _with_state_dir(f"crossroom attach {h.run_id}", h)


def stop_command(h: Holdings, *, teardown: bool) -> str:
    """Stop a run's engine from another terminal (``--teardown``: delete what it made first)."""
    return _with_state_dir(f"crossroom stop {h.run_id}" + (" --teardown" if teardown else ""), h)


def named(labels: tuple[str, ...] | list[str]) -> str:
    shown_ = ", ".join(labels[:NAMED_CLOUDS])
    more = len(labels) - NAMED_CLOUDS
    return shown_ + (f" … and {more} more" if more > 0 else "")


def held_line(h: Holdings) -> str:
    """``7 resources in 3 clouds: AWS 3, IBM 2, OVH 2`` (or that nothing is held)."""
    if not h.resources:
        return "no resources in any cloud"
    return f"{counted(h.total, 'resource')} in {counted(len(h.resources), 'cloud')}: " + named(
        [f"{label} {n}" for label, n in h.resources]
    )


def busy_lines(h: Holdings) -> list[str]:
    lines = []
    if h.running:
        lines.append(f"{counted(len(h.running), 'cloud')} still running: {named(h.running)}")
    if h.tearing_down:
        lines.append(
            f"{counted(len(h.tearing_down), 'cloud')} still tearing down: {named(h.tearing_down)}"
        )
    return lines


def question_lines(h: Holdings) -> list[str]:
    """The quit question's body: what is held where, what is still moving, how to clean up."""
    return [
        f"Run {h.run_id} holds {held_line(h)}.",
        *busy_lines(h),
        f"Tear down later: {teardown_command(h)}",
    ]


CHOICES: tuple[tuple[str, QuitChoice, str], ...] = (
    ("l", "leave", "leave the show running; come back with crossroom attach"),
    ("s", "stop", "stop the show; what it made stays (teardown command printed)"),
    ("t", "teardown", "tear down first, then stop (the screen shows it and closes)"),
)
"""Key, choice, what it does: the three answers of the quit question."""


def farewell(choice: QuitChoice | None, h: Holdings, *, engine_gone: bool = False) -> list[str]:
    """Lines printed to the terminal after the screen closed: what was left, and the exact
    command that cleans it up (none for a rehearsal or a run that holds nothing)."""
    if h.simulated or not h.run_id:
        return []
    if choice == "leave" and not engine_gone:
        return [
            f"crossroom: run {h.run_id} keeps running in its engine; {held_line(h)}.",
            *(f"crossroom: {line}" for line in busy_lines(h)),
            f"crossroom: back to it: {attach_command(h)}",
            f"crossroom: stop it and tear down: {stop_command(h, teardown=True)}",
        ]
    if not h.resources:
        return [f"crossroom: run {h.run_id} holds nothing in any cloud"] if choice else []
    return [
        f"crossroom: run {h.run_id} stopped; left behind: {held_line(h)}.",
        f"crossroom: tear down: {teardown_command(h)}",
    ]
