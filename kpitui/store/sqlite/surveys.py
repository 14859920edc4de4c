"""Survey scores (nps, csat) over long windows without reading every answer each time.

A score needs three counts of the window's answers — on the scale, good, bad — and
rollups (count, sum, min, max) cannot give them. Counts are integers, so they add up
exactly: the counts of each whole UTC day inside the window are kept per series between
refreshes, and only the window's two partial days are read as raw points. A 90-day
NPS over dense answers reads two days of points instead of ninety.

Kept days are forgotten per series from the oldest time a writer wrote into it (the
store's write log, as `SqliteReader.changes_since` reads it), and all at once when the
log cannot tell (another store file, a log cut short, a store without one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kpitui.store.checks import DAY
from kpitui.store.sqlite.schema import sql_floor

if TYPE_CHECKING:
    from kpitui.store.aggs import Selection

Counts = tuple[int, int, int]
"""(answers on the scale, good answers, bad answers)."""

MAX_KEPT_DAYS = 100_000
"""Series-days kept at most (a few MB); past that the cache starts again."""


class SurveyDays:
    """The answer counts of whole UTC days, per (series, survey) and day."""

    def __init__(self) -> None:
        self._days: dict[tuple[int, str], dict[int, Counts]] = {}
        self._size = 0

    def forget(self, changed: Mapping[int, int] | None) -> None:
        """Drop what writers may have changed: for each series in `changed` the days
        from its oldest written time on; everything when `changed` is None."""
        if changed is None:
            self._days.clear()
            self._size = 0
            return
        for key, days in self._days.items():
            since = changed.get(key[0])
            if since is not None:
                for day in [d for d in days if d + DAY > since]:
                    del days[day]
                    self._size -= 1

    def rows(
        self,
        con: sqlite3.Connection,
        sel: Selection,
        agg: str,
        scale: tuple[int, int, int, int, int, int],
        lo: int,
        end: int,
    ) -> list[tuple[int, int, float | None]] | None:
        """(group, 0, score) for the answers with lo <= ts < end; None when the range
        holds too few whole days to be worth keeping (the caller reads the points)."""
        first, last = -(-lo // DAY) * DAY, end // DAY * DAY  # the whole days: [first, last)
        if last - first < 2 * DAY:
            return None
        if self._size > MAX_KEPT_DAYS:
            self.forget(None)
        kept = {sid: self._days.setdefault((sid, agg), {}) for sid in sel.ids}
        whole = range(first, last, DAY)
        needed = set(whole)
        missing = [sid for sid, days in kept.items() if not needed <= days.keys()]
        if missing:
            self._fill(con, missing, agg, scale, first, last, kept)
        totals = [[0, 0, 0] for _ in sel.groups]
        for sid, days in kept.items():
            total = totals[sel.group_of[sid]]
            for i, column in enumerate(zip(*map(days.__getitem__, whole), strict=True)):
                total[i] += sum(column)
        edges = _counts_sql(scale, sel.group_expr("series_id"))
        for g, used, good, bad in con.execute(
            f"SELECT g, sum(u), sum(o), sum(b) FROM ({edges} WHERE series_id IN"
            f" ({sel.id_list()}) AND ts >= :lo AND ts < :first GROUP BY g UNION ALL {edges}"
            f" WHERE series_id IN ({sel.id_list()}) AND ts >= :last AND ts < :end GROUP BY g)"
            " GROUP BY g",
            {"lo": lo, "first": first, "last": last, "end": end},
        ):
            totals[g][0] += used
            totals[g][1] += good
            totals[g][2] += bad
        return [
            (g, 0, score(agg, used, good, bad))
            for g, (used, good, bad) in enumerate(totals)
            if used
        ]

    def _fill(
        self,
        con: sqlite3.Connection,
        ids: list[int],
        agg: str,
        scale: tuple[int, int, int, int, int, int],
        first: int,
        last: int,
        kept: dict[int, dict[int, Counts]],
    ) -> None:
        """Count the days of `ids` in [first, last) that are not kept yet."""
        absent = [d for sid in ids for d in range(first, last, DAY) if d not in kept[sid]]
        lo, hi = min(absent), max(absent) + DAY
        found: dict[tuple[int, int], Counts] = {}
        sql = (
            _counts_sql(scale, "series_id", f", {sql_floor('ts', DAY)} AS d")
            + f" WHERE series_id IN ({', '.join(map(str, ids))}) AND ts >= :lo AND ts < :hi"
            " GROUP BY g, d"
        )
        for sid, day, used, good, bad in con.execute(sql, {"lo": lo, "hi": hi}):
            found[(sid, day)] = (used, good, bad)
        for sid in ids:
            days = kept[sid]
            for day in range(lo, hi, DAY):
                if day not in days:
                    days[day] = found.get((sid, day), (0, 0, 0))
                    self._size += 1


def _counts_sql(scale: tuple[int, int, int, int, int, int], group: str, extra: str = "") -> str:
    low, high, good_lo, good_hi, bad_lo, bad_hi = scale
    return (
        f"SELECT {group} AS g{extra}, sum(value BETWEEN {low} AND {high}) AS u,"
        f" sum(value BETWEEN {good_lo} AND {good_hi}) AS o,"
        f" sum(value BETWEEN {bad_lo} AND {bad_hi}) AS b FROM points"
    )


def score(agg: str, used: int, good: int, bad: int) -> float:
    """NPS: % promoters (9–10) minus % detractors (0–6); CSAT: the share of 4–5."""
    return 100.0 * (good - bad) / used if agg == "nps" else good / used
