"""Windows, durations, compare offsets and quarters are parsed once, when the spec loads."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from kpitui import timeutil, vocabulary
from kpitui.spec.formula import parse_formula
from kpitui.spec.models import convert
from kpitui.timeutil import Duration, Window

DAY = 86400


def test_a_kpi_window_is_a_value_with_its_seconds():
    # Given a KPI with a rolling window and one with a calendar window
    spec = convert({"kpis": [{"metric": "a", "window": "7D"}, {"metric": "b", "window": "QTD"}]})
    rolling, calendar = (k.window for k in spec.kpis)
    # Then each is parsed: seconds for the rolling one, the unit for the calendar one
    assert (rolling.seconds, rolling.calendar, rolling.label) == (7 * DAY, None, "7d")
    assert (calendar.seconds, calendar.calendar, calendar.calendar_unit) == (None, "qtd", "quarter")
    assert str(calendar) == "qtd"


def test_durations_and_the_compare_offset_are_parsed_at_load():
    # Given a KPI with stale_after, spark and a compare offset, and a refresh
    spec = convert(
        {
            "refresh": "1m30s",
            "kpis": [
                {
                    "metric": "a",
                    "stale_after": "26h",
                    "compare": "365d",
                    "spark": {"window": "90d", "bucket": "1w"},
                }
            ],
        }
    )
    kpi = spec.kpis[0]
    # Then every one of them carries its seconds
    assert spec.refresh.seconds == 90
    assert kpi.stale_after.seconds == 26 * 3600
    assert kpi.compare.offset.seconds == 365 * DAY and not kpi.compare.previous_period
    assert (kpi.spark.window.seconds, kpi.spark.bucket.seconds) == (90 * DAY, 7 * DAY)


def test_the_defaults_are_values_too():
    # Given a KPI and a chart that write no window, bucket nor compare
    spec = convert({"kpis": [{"metric": "a", "agg": "sum"}], "charts": [{"metrics": ["a"]}]})
    kpi, chart = spec.kpis[0], spec.charts[0]
    # Then the defaults of SPEC §3 are there, parsed
    assert kpi.effective_window.seconds == 30 * DAY
    assert kpi.effective_spark.window.seconds == 30 * DAY
    assert kpi.effective_spark.bucket.seconds == DAY
    assert kpi.compare.previous_period
    assert (chart.window.seconds, chart.bucket.seconds) == (90 * DAY, DAY)
    assert spec.refresh.seconds == 5


def test_a_quarter_knows_its_days():
    spec = convert({"period": {"quarter": "2026-Q4"}, "kpis": [{"metric": "a"}]})
    assert spec.period.dates() == (date(2026, 10, 1), date(2026, 12, 31))


def test_values_compare_by_what_is_written_and_survive_a_copy():
    # Given two windows written alike and one written otherwise
    # Then equal ones are equal and hash alike (a spec edit is noticed by comparing specs)
    assert Window("7d") == Window(" 7D ") and hash(Window("7d")) == hash(Window("7D"))
    assert Window("7d") != Window("1w") and Window("7d") != Duration("7d")
    assert pickle.loads(pickle.dumps(Window("mtd"))) == Window("mtd")
    with pytest.raises(AttributeError):
        Window("7d").seconds = 1  # type: ignore[misc]


def test_a_window_range_reads_from_its_parsed_length():
    # Given 7d at noon / Then it holds the 7 days ending then, as SPEC §3 says
    as_of = timeutil.parse_time("2026-11-24T12:00:00Z")
    rng = Window("7d").range(as_of, timeutil.UTC)
    assert (rng.lo, rng.hi) == (as_of - 7 * DAY + 1, as_of)
    # and mtd holds the month so far, its previous range the same days of last month
    mtd = Window("mtd")
    assert mtd.range(as_of, timeutil.UTC).lo == timeutil.parse_time("2026-11-01")
    prev = mtd.previous_range(as_of, timeutil.UTC)
    assert (prev.lo, prev.hi) == (
        timeutil.parse_time("2026-10-01"),
        timeutil.parse_time("2026-10-24T12:00:00Z"),
    )


def test_bad_values_keep_their_messages():
    with pytest.raises(ValueError, match="is not a window: use 7d, 30d, 12h, mtd, qtd or ytd"):
        Window("weekly")
    with pytest.raises(ValueError, match="longer than 100 years"):
        Window("40000d")
    with pytest.raises(ValueError, match="is not a duration"):
        Duration("soon")


def test_the_spec_and_formulas_share_one_metric_name_rule():
    # Given a name with every character the rule allows / Then both accept it the same way
    name = "api_v2.latency:p90-eu"
    assert vocabulary.is_metric_name(name)
    assert parse_formula(f"{name} / 2").names == frozenset({name})
    assert not vocabulary.is_metric_name("2fast")
    assert vocabulary.AGGS[0] == "last" and "p99" in vocabulary.AGGS
