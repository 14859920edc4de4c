"""Checks of the OKR side of a spec: the period the key results run over, objectives that
would show no progress, and key results whose kind, start, target and `done` disagree.
"""

from __future__ import annotations

import math

from kpitui.literal import quoted
from kpitui.spec.loader import NodePath
from kpitui.spec.models import Dashboard, KeyResult, Objective
from kpitui.spec.problems import Problems, plain_number


def check_period(problems: Problems, d: Dashboard) -> None:
    p = d.period
    if p is None:
        return
    path: NodePath = ("period",)
    if p.quarter and (p.start or p.end):
        problems.error(path, "give either `quarter:` or `start:` and `end:`, not both")
    elif not p.quarter and (p.start is None or p.end is None):
        problems.error(
            path,
            "a period needs both `start:` and `end:`, or `quarter:`",
            "e.g. {start: 2026-10-01, end: 2026-12-31} or {quarter: 2026-Q4}",
        )
    elif p.start and p.end and p.start > p.end:
        problems.error((*path, "end"), f"the period ends ({p.end}) before it starts ({p.start})")


def check_objective(problems: Problems, objective: Objective, path: NodePath) -> None:
    if not objective.key_results and not objective.children:
        problems.warn(
            path,
            f"objective {quoted(objective.id)} has no key results nor child "
            "objectives: its progress stays empty",
        )
    for j, kr in enumerate(objective.key_results):
        check_key_result(problems, kr, (*path, "key_results", j))


def check_key_result(problems: Problems, kr: KeyResult, path: NodePath) -> None:
    kind = kr.effective_kind
    for key in ("start", "target"):
        value = getattr(kr, key)
        if value is not None and not math.isfinite(value):
            problems.error((*path, key), f"{key} must be a finite number")
            return
    if kr.done is not None and kind != "milestone":
        problems.error(
            (*path, "done"),
            f"`done` is for milestone key results, this one is {kind}",
            "drop `done:` or write `kind: milestone`",
        )
    if kind in ("increase", "decrease"):
        missing = [k for k in ("start", "target") if getattr(kr, k) is None]
        if missing:
            what = f"an {kind} key result" if kr.kind else "a key result"
            problems.error(
                path,
                f"{what} needs {' and '.join(f'`{k}:`' for k in missing)}",
                "or say `kind: maintain_above` / `maintain_below` with a target, "
                "or `kind: milestone` with `done:`"
                if not kr.kind
                else None,
            )
        elif kind == "increase" and not kr.target > kr.start:  # type: ignore[operator]
            hint = "did you mean `kind: decrease`?" if kr.target < kr.start else None  # type: ignore[operator]
            problems.error(
                (*path, "target"),
                f"target ({plain_number(kr.target)}) must be above start "
                f"({plain_number(kr.start)}) for an increase",
                hint,
            )
        elif kind == "decrease" and not kr.target < kr.start:  # type: ignore[operator]
            hint = "did you mean `kind: increase`?" if kr.target > kr.start else None  # type: ignore[operator]
            problems.error(
                (*path, "target"),
                f"target ({plain_number(kr.target)}) must be below start "
                f"({plain_number(kr.start)}) for a decrease",
                hint,
            )
    elif kind in ("maintain_above", "maintain_below") and kr.target is None:
        problems.error(path, f"a {kind} key result needs `target:`")
    elif kind == "milestone" and kr.done is None and kr.metric is None:
        problems.error(path, "a milestone needs `done: true|false` or a metric that reaches 1")
    if kr.checkin_every is not None and kr.metric is not None:
        problems.warn(
            (*path, "checkin_every"),
            f"checkin_every is for manual key results; this one reads metric {quoted(kr.metric)}",
            "drop checkin_every",
        )
