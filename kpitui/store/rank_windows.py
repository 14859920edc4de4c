"""Percentiles (p50 … p99) over long windows without sorting the window on every refresh.

A nearest-rank percentile needs the window's values in order, and rollups cannot give
them. A live board asks for the same window again every refresh, moved on by a few
seconds: so the values of the window's whole UTC hours are kept sorted, between
refreshes, and only the window's two partial hours are read as raw points (a few
hundred values on a dense store). When the window moves into a new hour, the hours that
left it are taken out of the kept values and the ones that entered are put in; the
answer is the value at the rank in the kept values and the edges together, found by
bisection (`kth_of_two`), exact as a sort of every point.

Kept hours are dropped when a writer wrote into them (the store's write log, as the
reader's `changes_since` reads it), or all of them when the log cannot tell.
Memory is bounded: at most `MAX_VALUES` values over all kept windows (8 bytes each).

Both backends keep windows the same way; each reads values with its own SQL, handed in
as a `ValuesOf`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kpitui.store.checks import HOUR

MAX_VALUES = 2_000_000
"""Values kept over all windows (16 MB); a window that would need more is not kept."""
MAX_WINDOWS = 8
MIN_HOURS = 6
"""Windows of fewer whole hours are read from the points, as before."""

ValuesOf = Callable[[Any, str, Sequence[tuple[int, int]], bool], Iterable[float]]
"""(connection, series ids "1, 2", ranges [(a, z), ...], ordered): the values of those
series with a <= ts < z in any range, ascending when `ordered`."""


class KeptWindow:
    """The sorted values of series `ids` in the whole hours [first, last)."""

    def __init__(self, ids: str, first: int, last: int, values: array) -> None:
        self.ids, self.first, self.last, self.values = ids, first, last, values


class RankWindows:
    """Kept windows of sorted values, for the percentile KPIs of a live board."""

    def __init__(self, values_of: ValuesOf) -> None:
        self._windows: list[KeptWindow] = []
        self._values_of = values_of

    def forget(self, changed: Mapping[int, int] | None) -> None:
        """Drop the windows a writer wrote into (all of them when `changed` is None)."""
        if changed is None:
            self._windows.clear()
            return
        self._windows = [
            w
            for w in self._windows
            if not any(since < w.last for sid, since in changed.items() if _holds(w.ids, sid))
        ]

    def value(
        self, con: Any, ids: str, percent: int, lo: int, end: int, n: int
    ) -> tuple[bool, float | None]:
        """(answered, the nearest-rank percentile of the values with lo <= ts < end);
        answered is False when the window is too short, or its `n` points too many, to
        be kept."""
        first, last = -(-lo // HOUR) * HOUR, end // HOUR * HOUR
        if last - first < MIN_HOURS * HOUR or n > MAX_VALUES // 2:
            return False, None
        kept = self._window(con, ids, first, last)
        if kept is None:
            return False, None
        edges = list(self._values_of(con, ids, [(lo, first), (last, end)], True))
        n = len(kept.values) + len(edges)
        if not n:
            return True, None
        return True, kth_of_two(kept.values, edges, (n * percent + 99) // 100)

    def _window(self, con: Any, ids: str, first: int, last: int) -> KeptWindow | None:
        """The kept window of `ids` moved to [first, last): one a few hours away from
        it brought up to date, else a new one read whole."""
        near = [
            w
            for w in self._windows
            if w.ids == ids and 4 * (abs(first - w.first) + abs(last - w.last)) <= last - first
        ]
        if near:
            kept = min(near, key=lambda w: abs(first - w.first) + abs(last - w.last))
            self._windows.remove(kept)
            if self._move(con, kept, first, last):
                self._windows.append(kept)  # the most recently used last
                return kept
        values = array("d", self._values_of(con, ids, [(first, last)], True))
        if len(values) > MAX_VALUES // 2:
            return None
        kept = KeptWindow(ids, first, last, values)
        self._windows.append(kept)
        while len(self._windows) > MAX_WINDOWS or (
            sum(len(w.values) for w in self._windows) > MAX_VALUES and len(self._windows) > 1
        ):
            self._windows.pop(0)
        return kept

    def _move(self, con: Any, kept: KeptWindow, first: int, last: int) -> bool:
        """Take out the hours that left the window and put in those that entered; False
        when a value to take out is not there (the kept values no longer match)."""
        if (first, last) == (kept.first, kept.last):
            return True  # the same whole hours: the usual refresh, nothing to copy
        left: list[float] = []
        entered: list[float] = []
        for a, z, into in (
            (kept.first, min(first, kept.last), left),  # hours that left at the start
            (max(last, kept.first), kept.last, left),  # ... and at the end
            (first, min(kept.first, last), entered),  # hours that entered at the start
            (max(kept.last, first), last, entered),  # ... and at the end
        ):
            if a < z:
                into.extend(self._values_of(con, kept.ids, [(a, z)], False))
        values = _without(kept.values, sorted(left))
        if values is None:
            return False
        kept.values = _with(values, sorted(entered))
        kept.first, kept.last = first, last
        return True


def _without(values: array, gone: list[float]) -> array | None:
    """`values` less the ascending `gone`, copied in slices (one pass in C, not a
    shift of the whole array per value)."""
    out, start = array("d"), 0
    for v in gone:
        i = bisect_left(values, v, start)
        if i == len(values) or values[i] != v:
            return None
        out += values[start:i]
        start = i + 1
    out += values[start:]
    return out


def _with(values: array, new: list[float]) -> array:
    """`values` and the ascending `new` merged, in slices."""
    out, start = array("d"), 0
    for v in new:
        i = bisect_right(values, v, start)
        out += values[start:i]
        out.append(v)
        start = i
    out += values[start:]
    return out


def _holds(ids: str, sid: int) -> bool:
    return str(sid) in ids.split(", ")


def kth_of_two(a: Sequence[float], b: Sequence[float], k: int) -> float:
    """The k-th smallest (1-based) of two ascending sequences together: bisect on how
    many come from `b` (the short one), O(log len(b)) comparisons."""
    lo, hi = max(0, k - len(a)), min(k, len(b))
    while lo < hi:
        i = (lo + hi) // 2  # take i from b and k - i from a
        if b[i] < a[k - i - 1]:
            lo = i + 1  # b's (i+1)-th is below a's last taken: take more from b
        else:
            hi = i
    i = lo
    j = k - i
    if i == 0:
        return a[j - 1]
    if j == 0:
        return b[i - 1]
    return max(a[j - 1], b[i - 1])
