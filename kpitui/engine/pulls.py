"""How each `pull:` of a spec stands at as-of, from the `PullState` that `kpitui sync`
keeps in the store: the one rule `kpitui check` and the board's header read.

- `failing`: its last run failed (the last error is newer than the last success); said
  with its last success, which a pull that keeps failing keeps;
- `late`: its last success is older than twice its `every:` plus its source's timeout
  (a sync that stopped, a cron line that went missing);
- `never`: it has not run against this store yet;
- `ok` otherwise.

A KPI whose stored metrics include a failing or late pull's metric is stale because of
that pull (`stale_pulls`): its value is only as fresh as the last pull that worked. The
board (`board_pulls`) carries the troubled pulls at its as-of: a run recorded after
as-of (a board looked at in the past) says nothing about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from msgspec import Struct

from kpitui.spec.models import Dashboard, Pull
from kpitui.store.api import PullState
from kpitui.timeutil import format_age, iso_utc

PullCondition = Literal["ok", "failing", "late", "never"]


class PullHealth(Struct, frozen=True):
    pull_id: str
    metric: str
    condition: PullCondition
    message: str
    """One line for a person: what is wrong and since when ("" when ok)."""
    since: int | None = None
    """Since when its data is old: its last success (a failing pull that never worked:
    its last failed run)."""

    @property
    def since_iso(self) -> str | None:
        return None if self.since is None else iso_utc(self.since)

    @property
    def troubled(self) -> bool:
        return self.condition in ("failing", "late")


def late_after(pull: Pull, dashboard: Dashboard) -> int:
    """Seconds after its last success at which a pull is late."""
    source = dashboard.sources.get(pull.source)
    timeout = source.timeout.seconds if source is not None else 0
    return 2 * pull.every.seconds + timeout


def pull_health(
    pull: Pull, state: PullState | None, dashboard: Dashboard, as_of: int
) -> PullHealth:
    name = f"pull {pull.id!r}"
    if state is None or (state.last_success is None and state.last_error_at is None):
        return PullHealth(
            pull.id, pull.metric, "never", f"{name} has not run yet (start `kpitui sync`)"
        )
    success, failed = state.last_success, state.last_error_at
    if failed is not None and (success is None or failed > success):
        # A pull that keeps failing keeps its last success: that is how old its data is.
        if success is None:
            when = f"has never worked (last tried {iso_utc(failed)})"
        else:
            when = f"is failing: its last success was {format_age(as_of - success)}"
        return PullHealth(
            pull.id,
            pull.metric,
            "failing",
            f"{name} {when}: {state.last_error or 'no message'}",
            failed if success is None else success,
        )
    assert success is not None
    if as_of - success > late_after(pull, dashboard):
        return PullHealth(
            pull.id,
            pull.metric,
            "late",
            f"{name} is late: its last success was {format_age(as_of - success)}, and it "
            f"runs every {pull.every.label} (is `kpitui sync` running?)",
            success,
        )
    return PullHealth(pull.id, pull.metric, "ok", "", success)


def pulls_health(
    dashboard: Dashboard, states: Mapping[str, PullState], as_of: int
) -> list[PullHealth]:
    """Each pull's health, in spec order."""
    return [pull_health(p, states.get(p.id), dashboard, as_of) for p in dashboard.pull]


def stale_pulls(metrics: set[str], health: list[PullHealth]) -> list[PullHealth]:
    """The failing or late pulls among those that write one of `metrics` (a KPI's
    stored operands)."""
    return [h for h in health if h.troubled and h.metric in metrics]


def board_pulls(
    dashboard: Dashboard, states: Mapping[str, PullState], as_of: int
) -> tuple[PullHealth, ...]:
    """The pulls that are failing or late at `as_of`, in spec order."""
    known = {}
    for pull_id, state in states.items():
        success = state.last_success if _by(state.last_success, as_of) else None
        failed = state.last_error_at if _by(state.last_error_at, as_of) else None
        known[pull_id] = PullState(pull_id, success, failed, state.last_error, state.high_water)
    return tuple(h for h in pulls_health(dashboard, known, as_of) if h.troubled)


def _by(ts: int | None, as_of: int) -> bool:
    return ts is not None and ts <= as_of


def stale_reason(troubled: list[PullHealth]) -> str:
    """Why a KPI is stale, for its detail: `pull 'signups' is failing` (and how many more)."""
    first = troubled[0]
    words = f"pull {first.pull_id!r} is {first.condition}"
    return words if len(troubled) == 1 else f"{words} (and {len(troubled) - 1} more)"
