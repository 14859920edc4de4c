"""The sample store of `kpitui demo` and its live feed."""

from __future__ import annotations

import random

from kpitui.sample_data import generate as sample
from kpitui.store import open_reader, open_writer

END = 1_795_000_000  # 2026-11-18T09:46:40Z
DAY = 86400
METRICS = {
    "mrr",
    "arpu",
    "signups",
    "visits",
    "dau",
    "mau",
    "churn_rate",
    "nps_response",
    "csat_response",
    "cac",
    "session_minutes",
    "trial_conversions",
    "page_latency_ms",
}


def summary(path) -> list[tuple]:
    reader = open_reader(path)
    try:
        return [
            (s.series.metric, dict(s.series.labels), s.count, s.first_ts, s.last_ts)
            for s in reader.stats()
        ]
    finally:
        reader.close()


def test_generate_writes_every_metric_deterministically(tmp_path):
    # Given two stores generated with the same seed and end
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    written = sample.generate(a, end=END, days=30)
    sample.generate(b, end=END, days=30)
    # Then they hold the same series and points, every documented metric, none after end
    assert summary(a) == summary(b)
    reader = open_reader(a)
    try:
        assert reader.metric_names() == METRICS
        assert {s.labels["plan"] for s in reader.series("mrr")} == {"starter", "pro", "enterprise"}
        assert {s.labels["region"] for s in reader.series("signups")} == {"eu", "us", "apac"}
        assert sum(s.count for s in reader.stats()) == written
        assert max(s.last_ts for s in reader.stats()) <= END
        lo = END - 30 * DAY + 1
        # And the values read like a SaaS product's
        assert 100_000 < reader.last("mrr", None, END).value < 200_000
        assert 0 < reader.last("churn_rate", None, END).value < 0.05
        assert 20 <= reader.aggregate("nps_response", None, "nps", lo, END) <= 60
        assert 0.6 <= reader.aggregate("csat_response", None, "csat", lo, END) <= 0.95
        assert reader.out_of_scale("nps_response", None, "nps", lo, END).ignored == 0
        assert 150 < reader.aggregate("page_latency_ms", None, "p90", lo, END) < 400
        assert reader.aggregate("page_latency_ms", None, "count", END - DAY + 1, END) >= 30
        # And the manual key results have check-ins; the hiring one is 10+ days old
        for kr in sample.SAMPLE_CHECKIN_KRS:
            assert reader.checkins(kr, at=END), kr
        assert reader.checkins("hire-support-leads")[-1].ts <= END - 10 * DAY
    finally:
        reader.close()


def test_another_seed_gives_other_data(tmp_path):
    sample.generate(tmp_path / "a.db", end=END, days=10)
    sample.generate(tmp_path / "b.db", end=END, days=10, seed=8)
    ra, rb = open_reader(tmp_path / "a.db"), open_reader(tmp_path / "b.db")
    assert ra.last("mrr", None, END) != rb.last("mrr", None, END)
    ra.close()
    rb.close()


def test_feed_step_pushes_latency_over_a_threshold_within_a_minute(tmp_path):
    # Given the sample store, and a p90 latency over the last hour well under 400 ms
    path = tmp_path / "m.db"
    sample.generate(path, end=END, days=3)
    reader = open_reader(path)
    before = reader.aggregate("page_latency_ms", None, "p90", END - 3599, END)
    assert before < 400
    # When the demo feed runs every 2 seconds for a minute
    rng = random.Random(11)
    now = END
    for _ in range(30):
        now += 2
        with open_writer(path) as writer:
            assert sample.feed_step(writer, now, rng) >= 4
    # Then the p90 crossed 400 ms, and a few new signups arrived (not a day's worth)
    assert reader.aggregate("page_latency_ms", None, "p90", now - 3599, now) > 400
    assert 3 <= reader.aggregate("signups", None, "sum", END + 1, now) <= 20
    reader.close()


def test_runnable_as_a_module(tmp_path, capsys):
    path = tmp_path / "out.db"
    assert sample.main([str(path), "--end", "2026-11-18", "--days", "5"]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    assert "mrr" in open_reader(path).metric_names()
    assert sample.main([str(path), "--end", "whenever"]) == 2
