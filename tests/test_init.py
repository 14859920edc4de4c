"""`kpitui init`: a starter spec from what the store holds, that `check` passes and the
board opens, never written over a file without --force."""

from __future__ import annotations

import pytest
import yaml

from kpitui.cli import main
from kpitui.starter_spec import DAY, HOUR, MetricProfile, plan_kpi, title_of

END = 1_796_990_400  # 2026-12-11T12:00:00Z


def profile(name, spacing, *, whole=True, fraction=False, series=1, labels=None):
    return MetricProfile(
        name=name,
        series=series,
        points=100,
        spacing=spacing,
        label_values=labels or {},
        whole=whole,
        non_negative=True,
        fraction=fraction,
    )


@pytest.mark.parametrize(
    ("given", "agg", "window", "spark"),
    [
        # hourly counts: a flow, summed over a week; the sparkline a month of days
        (profile("signups", HOUR), "sum", "7d", ("30d", "1d")),
        # a daily count with no name to go by: whole numbers ≥ 0 are counts
        (profile("widgets_shipped", DAY), "sum", "30d", ("90d", "3d")),
        # weekly counts: a quarter
        (profile("orders", 7 * DAY), "sum", "90d", ("365d", "14d")),
        # a daily level, named so: its latest value, however old
        (profile("mrr", DAY, whole=False), "last", None, ("90d", "3d")),
        (profile("dau", DAY), "last", None, ("90d", "3d")),
        # a fraction is a level (a rate), shown as a percentage
        (profile("conversion_share", DAY, whole=False, fraction=True), "last", None, ("90d", "3d")),
        # survey answers and latency samples
        (profile("nps_response", 4 * HOUR), "nps", "30d", ("90d", "3d")),
        (profile("page_latency_ms", 900), "p90", "1d", ("7d", "6h")),
        # a daily export a little late is still daily
        (profile("visits", 1.3 * DAY), "sum", "30d", ("90d", "3d")),
    ],
    ids=lambda v: v.name if isinstance(v, MetricProfile) else None,
)
def test_the_agg_window_and_sparkline_come_from_the_data(given, agg, window, spark):
    kpi = plan_kpi(given, set())
    assert (kpi.agg, kpi.window, (kpi.spark_window, kpi.spark_bucket)) == (agg, window, spark)


def test_a_fraction_is_shown_as_a_percent_and_a_latency_is_lower_is_better():
    assert plan_kpi(profile("conversion_share", DAY, whole=False, fraction=True), set()).format == (
        "percent"
    )
    assert plan_kpi(profile("page_latency_ms", 900), set()).direction == "down"
    assert plan_kpi(profile("signups", HOUR), set()).direction is None


def test_titles_come_from_the_names():
    assert title_of("trial_conversions") == "Trial conversions"
    assert title_of("mrr") == "MRR"
    assert title_of("api.p90-latency") == "API P90 latency"
    assert plan_kpi(profile("signups", HOUR), set()).title == "Signups (7 days)"


def test_an_id_the_layout_reserves_or_one_taken_gets_another():
    taken: set[str] = set()
    assert plan_kpi(profile("okrs", DAY), taken).id == "okrs-kpi"
    assert plan_kpi(profile("okrs-kpi", DAY), taken).id == "okrs-kpi-kpi"


@pytest.fixture
def sample_store(tmp_path):
    from kpitui.sample_data.generate import generate

    path = tmp_path / "metrics.db"
    generate(path, end=END, days=60)
    return path


def test_init_on_the_sample_store_writes_a_spec_check_passes_clean(sample_store, tmp_path, capsys):
    spec = tmp_path / "board.yaml"
    # When init reads the sample store
    assert main(["init", "--db", str(sample_store), "-o", str(spec)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {spec}: 13 KPIs" in out
    # Then check passes with no warning, and the spec reads its store relative to itself
    assert main(["check", str(spec)]) == 0
    checked = capsys.readouterr()
    assert checked.out.strip().endswith("ok — 13 KPIs, 2 charts, 0 objectives, 0 key results")
    assert "warning" not in checked.out + checked.err
    written = yaml.safe_load(spec.read_text())
    assert written["store"] == "metrics.db"
    kpis = {k["metric"]: k for k in written["kpis"]}
    assert (kpis["signups"]["agg"], kpis["signups"]["window"]) == ("sum", "7d")
    assert "agg" not in kpis["mrr"] and "window" not in kpis["mrr"]  # a level: last
    assert kpis["nps_response"]["agg"] == "nps" and kpis["csat_response"]["agg"] == "csat"
    assert all(len(row) <= 3 for page in written["layout"]["pages"] for row in page["rows"])
    # And the example objective is there, commented out
    assert "# okrs:" in spec.read_text() and "okrs" not in written


async def test_the_board_init_wrote_opens_with_every_kpi_valued(sample_store, tmp_path):
    from kpitui.spec import load_dashboard
    from kpitui.timeutil import FixedClock
    from kpitui.tui.app import KpituiApp
    from kpitui.tui.widgets.kpi_card import KpiCard

    spec = tmp_path / "dashboard.yaml"
    assert main(["init", "--db", str(sample_store), "-o", str(spec)]) == 0
    app = KpituiApp(load_dashboard(spec), store_path=sample_store, clock=FixedClock(END))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.board is not None and app.focused is not None:
                break
        assert app.board is not None
        assert {k.state for k in app.board.kpis}.isdisjoint({"error", "no_data"})
        cards = app.query(KpiCard)
        assert len(cards) == 6  # the first page: six KPIs
        assert app.query_one("#p0-kpi-signups", KpiCard)
        await pilot.press("2")  # the second page
        await pilot.pause()
        assert app.query_one("#p1-kpi-mrr", KpiCard)


def test_init_never_overwrites_a_file_without_force(sample_store, tmp_path, capsys):
    spec = tmp_path / "dashboard.yaml"
    spec.write_text("title: mine\n")
    assert main(["init", "--db", str(sample_store), "-o", str(spec)]) == 2
    assert f"kpitui: {spec}: already exists (pass --force" in capsys.readouterr().err
    assert spec.read_text() == "title: mine\n"
    assert main(["init", "--db", str(sample_store), "-o", str(spec), "--force"]) == 0
    assert spec.read_text().startswith("# A starter board")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_init_prints_the_spec_with_o_dash(sample_store, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--db", str(sample_store), "-o", "-"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["store"] == "metrics.db"
    assert not (tmp_path / "dashboard.yaml").exists()


def test_init_without_a_store_or_with_an_empty_one_says_so(tmp_path, capsys):
    assert main(["init", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "s.yaml")]) == 2
    assert "none.db: no store here yet" in capsys.readouterr().err
    assert main(["record", "x", "1", "--db", str(tmp_path / "e.db")]) == 0
    assert main(["delete", "x", "--yes", "--db", str(tmp_path / "e.db")]) == 0
    capsys.readouterr()
    assert main(["init", "--db", str(tmp_path / "e.db"), "-o", str(tmp_path / "s.yaml")]) == 2
    assert "e.db: the store holds no metrics yet" in capsys.readouterr().err
    assert not (tmp_path / "s.yaml").exists()


def test_awkward_metric_names_still_make_a_spec_check_passes(tmp_path, capsys):
    db = tmp_path / "m.db"
    src = tmp_path / "p.csv"
    src.write_text(
        "metric,time,value,plan\n"
        f'okrs,{END},1,\nyes,{END},2,\napi:req.count,{END},3,a b\napi:req.count,{END},4,"c: d"\n'
    )
    assert main(["import", str(src), "--db", str(db)]) == 0
    spec = tmp_path / "s.yaml"
    assert main(["init", "--db", str(db), "-o", str(spec)]) == 0
    assert main(["check", str(spec)]) == 0
    metrics = {k["metric"] for k in yaml.safe_load(spec.read_text())["kpis"]}
    assert metrics == {"okrs", "yes", "api:req.count"}


def test_a_urls_password_is_not_written_into_the_spec(tmp_path):
    from kpitui.cli.init_cmd import _store_for
    from kpitui.store.name import StoreName

    url = StoreName.parse(
        "postgresql://ann:s3cret@db.example:5432/metrics?password=x&sslmode=require"
    )
    assert _store_for(url, tmp_path) == "postgresql://ann@db.example:5432/metrics?sslmode=require"
