"""How each `pull:` of a spec stands at as-of, from the `PullState` that `kpitui sync`
keeps in the store: the one rule `kpitui check` and the board's header read.

- `failing`: its last run failed (the last error is newer than the last success);
- `late`: its last success is older than twice its `every:` plus its source's timeout
  (a sync that stopped, a cron line that went missing);
- `never`: it has not run against this store yet;
- `ok` otherwise.

A KPI whose stored metrics include a failing or late pull's metric is stale because of
that pull (`stale_pulls`): its value is only as fresh as the last pull that worked.
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
    """When it went wrong: the failing run, the last success of a late pull."""

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
        return PullHealth(
            pull.id,
            pull.metric,
            "failing",
            f"{name} is failing since {iso_utc(failed)}: {state.last_error or 'no message'}",
            failed,
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
