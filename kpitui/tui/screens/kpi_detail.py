"""The KPI drill-down (SPEC §4): a full-size chart with range keys, the range's stats,
the period comparison, a breakdown by label and the key results that use the metric.

The screen only presents a `KpiDetail` (kpitui.engine.detail).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from kpitui.engine.annotations import MarkList
from kpitui.engine.detail import (
    BUCKET_NAMES,
    RANGE_WORDS,
    KpiDetail,
    LabelRow,
    kpi_detail,
    step_bucket,
)
from kpitui.engine.detail import (
    RANGE_KEYS as RANGE_NAMES,
)
from kpitui.tui.screens.detail_base import (
    DetailBody,
    DetailChart,
    DetailScreen,
    DetailTable,
    empty_chart,
    progress_text,
    spark_text,
    sync_table,
)
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.key_footer import KeyFooter
from kpitui.tui.widgets.mark_list import MarkListView

# -- the KPI detail ---------------------------------------------------------------------

RANGE_KEYS: tuple[tuple[str, str, str], ...] = tuple(
    (key, name, RANGE_WORDS[name]) for key, name in zip("12340", RANGE_NAMES, strict=True)
)
SORTS: tuple[str, ...] = ("value", "share", "delta", "label")


def _range_bindings() -> list[Binding]:
    # One footer entry (`1 2 3 4 0 range`, in the order of the range line's names):
    # five separate ones push `q` off an 80-column footer.
    group = Binding.Group("range")
    return [
        Binding(
            key,
            f"range('{name}')",
            name,
            id=f"kpi_detail.range_{name}",
            tooltip=f"Chart and stats over {words} ({name})",
            group=group,
        )
        for key, name, words in RANGE_KEYS
    ]


class KpiDetailScreen(DetailScreen):
    """The detail of one KPI, opened with Enter on its card."""

    HELP_TITLE: ClassVar[str] = "KPI detail"
    HELP_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("⏎ on a label", "Show only that label in the chart and stats (again: all labels)"),
        ("⏎ on a key result", "Open that key result's detail"),
        ("↑ / ↓, tab", "Move in a table, and between the chart and the tables"),
        ("pgup / pgdn", "Page through a table, then scroll the screen"),
        ("home / end", "Scroll to the top / bottom of the screen"),
    ]
    """Keys the help screen lists beside the bindings: Enter and the arrows are the
    tables' and charts' own, paging and home/end the scrolling body's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *_range_bindings(),
        Binding(
            "left_square_bracket",
            "bucket(-1)",
            "Finer",
            key_display="[",
            id="kpi_detail.finer",
            tooltip=f"Smaller chart buckets ({BUCKET_NAMES})",
            group=Binding.Group("bucket"),
        ),
        Binding(
            "right_square_bracket",
            "bucket(1)",
            "Coarser",
            key_display="]",
            id="kpi_detail.coarser",
            tooltip=f"Bigger chart buckets ({BUCKET_NAMES})",
            group=Binding.Group("bucket"),
        ),
        # The breakdown's heading and the range line say these where they apply.
        Binding(
            "s",
            "sort",
            "Sort",
            show=False,
            id="kpi_detail.sort",
            tooltip="Sort the breakdown by the next column",
        ),
        Binding(
            "c",
            "clear_filter",
            "Clear filter",
            show=False,
            id="kpi_detail.clear_filter",
            tooltip="Show all labels in the chart again",
        ),
        Binding(
            "m",
            "next_mark",
            "Mark",
            id="kpi_detail.next_mark",
            tooltip="Jump to the next annotation in range: drawn apart on the chart, marked ▸ in the list",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "kpi-detail--good",
        "kpi-detail--bad",
        "kpi-detail--muted",
        "kpi-detail--heading",
    }
    """
    | Class | Description |
    | :- | :- |
    | `kpi-detail--good` | A change that is good for the KPI's direction. |
    | `kpi-detail--bad` | A change that is bad for the KPI's direction. |
    | `kpi-detail--muted` | Secondary words. |
    | `kpi-detail--heading` | Block headings in the stats and about blocks. |
    """

    DEFAULT_CSS = """
    KpiDetailScreen {
        & > .kpi-detail--good { color: $text-success; }
        & > .kpi-detail--bad { color: $text-error; }
        & > .kpi-detail--muted { color: $foreground-muted; }
        & > .kpi-detail--heading { text-style: bold; color: $text-primary; }

        #kd-head { height: 1; background: $panel; padding: 0 1; }
        /* The name keeps 20 cells on a narrow screen: the delta after it is cut instead. */
        #kd-name { width: 1fr; min-width: 20; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
        #kd-delta { text-wrap: nowrap; text-overflow: ellipsis; }
        #kd-state { width: auto; margin-left: 2; text-style: bold; }
        #kd-value { width: auto; margin-left: 2; text-style: bold; }
        #kd-delta { width: auto; margin-left: 2; }
        #kd-state.-state-ok { color: $text-success; }
        #kd-state.-state-warn { color: $text-warning; }
        #kd-state.-state-crit { color: $text-error; text-style: bold reverse; }
        #kd-state.-state-error { color: $text-error; }
        #kd-state.-state-stale, #kd-state.-state-no_data { color: $foreground-muted; }
        #kd-state.-state-neutral { color: $text-primary; }
        #kd-delta.-good { color: $text-success; }
        #kd-delta.-bad { color: $text-error; }
        #kd-range { height: 1; padding: 0 1; color: $foreground-muted;
                    text-wrap: nowrap; text-overflow: ellipsis; }
        #detail-problem { display: none; height: auto; padding: 0 1; color: $text-error; }
        #kd-body { height: 1fr; scrollbar-size-vertical: 1; }
        #kd-chart { height: 50vh; min-height: 9; }
        #kd-info { height: auto; }
        #kd-stats-box { width: 1fr; min-width: 30; height: auto; padding: 0 1; }
        #kd-stats-box > Static { height: auto; }
        #kd-stats-heading { color: $text-primary; text-style: bold; }
        #kd-stats-kpi { color: $foreground-muted; }
        #kd-about { width: 2fr; height: auto; padding: 0 1; }
        .kd-heading { height: 1; padding: 0 1; margin-top: 1; text-style: bold;
                      color: $text-primary;
                      text-wrap: nowrap; text-overflow: ellipsis; }
        DataTable { height: auto; max-height: 12; margin: 0 1; }
        DataTable:focus { background-tint: $foreground 4%; }
        #kd-krs-heading, #kd-krs, #kd-breakdown-heading, #kd-breakdown { display: none; }
        &.-has-breakdown #kd-breakdown-heading, &.-has-breakdown #kd-breakdown { display: block; }
        &.-has-krs #kd-krs-heading, &.-has-krs #kd-krs { display: block; }
    }
    """

    BREAKDOWN_COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("label", "Label"),
        ("value", "Value"),
        ("share", "Share"),
        ("delta", "Δ vs prev"),
        ("trend", "Trend"),
    )
    KR_COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("title", "Key result"),
        ("objective", "Objective"),
        ("progress", "Progress"),
        ("status", "Status"),
    )

    def __init__(self, kpi_id: str, *, range_key: str = "30d") -> None:
        super().__init__()
        self.kpi_id = kpi_id
        """The KPI shown."""
        self.range_key = range_key
        """`7d`, `30d`, `90d`, `1y` or `all` (keys 1 2 3 4 0)."""
        self.bucket: int | None = None
        """The chart bucket chosen with `[`/`]`; None: automatic for the range."""
        self.label_filter: tuple[str, str] | None = None
        """(label key, value) the chart and stats are narrowed to (Enter on a breakdown row)."""
        self.sort_by = SORTS[0]
        """The breakdown's sort column: value, share, delta or label."""
        self.mark: str | None = None
        """The key of the annotation `m` jumped to; None: none chosen."""
        self.detail_marks: MarkList | None = None
        """The marks in the range shown, as the last detail listed them."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="kd-head"):
            yield Static(id="kd-name", markup=False)
            yield Static(id="kd-state", markup=False)
            yield Static(id="kd-value", markup=False)
            yield Static(id="kd-delta", markup=False)
        yield Static(id="kd-range", markup=False)
        yield Static(id="detail-problem", markup=False)
        with DetailBody(id="kd-body"):
            yield DetailChart(empty_chart(f"kpi-{self.kpi_id}", self.kpi_id), id="kd-chart")
            yield MarkListView(id="kd-marks")
            with Horizontal(id="kd-info"):
                with Vertical(id="kd-stats-box"):
                    yield Static(id="kd-stats-heading", markup=False)
                    yield Static(id="kd-stats", markup=False)
                    yield Static(id="kd-stats-kpi", markup=False)
                yield Static(id="kd-about", markup=False)
            yield Static(id="kd-breakdown-heading", classes="kd-heading", markup=False)
            yield DetailTable(id="kd-breakdown", cursor_type="row", zebra_stripes=True)
            yield Static(
                "Key results using this metric",
                id="kd-krs-heading",
                classes="kd-heading",
                markup=False,
            )
            yield DetailTable(id="kd-krs", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        breakdown = self.query_one("#kd-breakdown", DataTable)
        for key, label in self.BREAKDOWN_COLUMNS:
            breakdown.add_column(label, key=key)
        krs = self.query_one("#kd-krs", DataTable)
        for key, label in self.KR_COLUMNS:
            krs.add_column(label, key=key)
        board = getattr(self.app, "board", None)
        view = board.kpi(self.kpi_id) if board is not None else None
        if view is not None:
            self._show_head(view, None)  # the board's numbers until the detail arrives
        self._show_range(None)
        self.query_one("#kd-chart", ChartPanel).loading = True

    # -- loading ---------------------------------------------------------------------

    def make_loader(self, spec: Any, as_of: int) -> Callable[[Any], Any]:
        kpi_id, range_key, bucket = self.kpi_id, self.range_key, self.bucket
        label_filter = self.label_filter
        return lambda reader: kpi_detail(
            spec, reader, kpi_id, as_of, range_key, bucket, label_filter
        )

    def show_detail(self, detail: KpiDetail) -> None:
        chart = self.query_one("#kd-chart", ChartPanel)
        chart.loading = False
        chart.update_view(detail.chart)
        had_marks = self.detail_marks is not None and bool(self.detail_marks.marks)
        self.detail_marks = detail.marks
        if detail.marks.chosen(self.mark) is None:
            self.mark = None  # out of the range shown now
        self._show_marks()
        if had_marks != bool(detail.marks.marks):
            self.refresh_bindings()  # `m` comes and goes with marks to jump to
        self._show_head(detail.kpi, detail)
        self._show_range(detail)
        # What the stats run over (the chart's buckets) above them, the KPI's number below.
        update_static(self.query_one("#kd-stats-heading", Static), Text(detail.stats_heading))
        update_static(self.query_one("#kd-stats", Static), self._stats(detail))
        update_static(self.query_one("#kd-stats-kpi", Static), safe_text(f"KPI {detail.kpi_words}"))
        update_static(self.query_one("#kd-about", Static), self._about(detail))
        self._show_breakdown(detail)
        self._show_key_results(detail)
        self.place_focus()

    def show_error(self, error: str | None) -> None:
        super().show_error(error)
        if error is not None:
            self.query_one("#kd-chart", ChartPanel).loading = False

    def on_resize(self) -> None:
        if self.detail is not None:
            self._show_head(self.detail.kpi, self.detail)

    # -- presenting ------------------------------------------------------------------

    def _style(self, name: str) -> Any:
        return self.get_component_rich_style(f"kpi-detail--{name}", partial=True)

    def _show_head(self, view: Any, detail: KpiDetail | None) -> None:
        update_static(self.query_one("#kd-name", Static), safe_text(f"KPI · {view.title}"))
        state = self.query_one("#kd-state", Static)
        state.set_classes(f"-state-{view.state}")
        update_static(state, Text(view.state_label, end=""))
        value = view.display
        if view.state == "stale" and view.age_display:
            because = f"; {view.stale_reason}" if view.stale_reason else ""
            value = f"{value} ({view.age_display}{because})"
        update_static(self.query_one("#kd-value", Static), safe_text(value))
        delta = self.query_one("#kd-delta", Static)
        delta.set_class(view.delta_good is True, "-good")
        delta.set_class(view.delta_good is False, "-bad")
        words = view.delta_display
        if detail is not None and detail.head_delta != words:
            # What the change is against only where the KPI's name is still whole:
            # the stats below say it too, the name nowhere else on the screen.
            name = cell_len(f"KPI · {view.title}")
            used = 2 + name + 2 + cell_len(view.state_label) + 2 + cell_len(value) + 2
            if used + cell_len(detail.head_delta) <= self.size.width:
                words = detail.head_delta
        update_static(delta, safe_text(words))

    def _show_range(self, detail: KpiDetail | None) -> None:
        line = Text("range", end="", no_wrap=True)
        for _, name, _ in RANGE_KEYS:
            line.append(" ")
            line.append(f" {name} ", style="bold reverse" if name == self.range_key else "")
        if detail is not None:
            line.append(f" · {detail.chart.bucket_label} buckets")
            if not detail.bucket_auto:
                line.append(" (chosen)")
        if self.label_filter is not None:
            line.append(" · only ")
            line.append_text(
                safe_text(f"{self.label_filter[0]}={self.label_filter[1]}", style="bold")
            )
            line.append(" (c clears)")
        update_static(self.query_one("#kd-range", Static), line)

    def _stats(self, detail: KpiDetail) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        if detail.label_filter is not None:
            key, value = detail.label_filter
            grid.add_row(Text("only", style=self._style("muted")), safe_text(f"{key}={value}"))
        for name, shown in detail.stats_rows:
            grid.add_row(name, safe_text(shown))
        return grid

    def _about(self, detail: KpiDetail) -> Text:
        view = detail.kpi
        muted, heading = self._style("muted"), self._style("heading")
        lines: list[Text] = []
        compare = Text(end="")
        compare.append("Comparison ", style=heading)
        if detail.compare_words is None:
            compare.append("none", style=muted)
        else:
            style = (
                self._style("good")
                if view.delta_good is True
                else self._style("bad")
                if view.delta_good is False
                else muted
            )
            compare.append_text(safe_text(detail.compare_words, style=style))
        lines.append(compare)
        if detail.compare_words is not None:
            lines.append(Text(f"  {detail.now_then}", style=muted, end=""))
        targets = Text(end="")
        targets.append("Target ", style=heading)
        none = detail.targets_words == "none"
        targets.append(detail.targets_words, style=muted if none else "")
        lines.append(targets)
        last = Text(end="")
        last.append("Last point ", style=heading)
        if detail.last_at_display is None:
            last.append("none at or before as-of", style=muted)
        else:
            last.append(detail.last_at_display)
            last.append(f" · {detail.age_display}", style=muted)
        lines.append(last)
        how = Text(end="")
        how.append("Reads ", style=heading)
        how.append(f"{view.reads} · {view.direction_words}")
        lines.append(how)
        if detail.out_of_scale_words is not None:
            lines.append(Text(detail.out_of_scale_words, style=self._style("bad"), end=""))
        if detail.formula:
            formula = Text(end="")
            formula.append("Formula ", style=heading)
            formula.append_text(safe_text(detail.formula))
            lines.append(formula)
        if detail.description:
            lines.append(safe_text(detail.description, style="italic"))
        if detail.error:
            lines.append(safe_text(f"⚠ {detail.error}", style=self._style("bad")))
        return Text("\n", end="").join(lines)

    # -- the breakdown ---------------------------------------------------------------

    def _show_breakdown(self, detail: KpiDetail) -> None:
        rows = [row for breakdown in detail.breakdowns for row in breakdown.rows]
        self.set_class(bool(rows), "-has-breakdown")
        keys = ", ".join(b.key for b in detail.breakdowns)
        heading = Text(end="", no_wrap=True)
        heading.append_text(safe_text(f"By {keys}" if keys else "By label"))
        heading.append(
            f" · over {detail.breakdown_window} · sorted by "
            f"{self.sort_by} (s) · Enter filters the chart",
            style=self._style("muted"),
        )
        update_static(self.query_one("#kd-breakdown-heading", Static), heading)
        table = self.query_one("#kd-breakdown", DataTable)
        cells = {self._row_key(row): self._row_cells(row, detail) for row in rows}
        sync_table(table, cells, [key for key, _ in self.BREAKDOWN_COLUMNS])
        self._sort_breakdown(rows)

    @staticmethod
    def _row_key(row: LabelRow) -> str:
        return f"{row.key}\x00{row.value}"

    def _row_cells(self, row: LabelRow, detail: KpiDetail) -> tuple[Any, ...]:
        filtered = self.label_filter == (row.key, row.value)
        label = Text("● " if filtered else "  ", end="", style="bold")
        label.append_text(self._label_text(row))
        value = safe_text(row.current_display)
        value.justify = "right"
        share = Text(row.share_display, justify="right", end="")
        good = row.delta_good
        style = (
            self._style("good")
            if good is True
            else self._style("bad")
            if good is False
            else self._style("muted")
        )
        delta = safe_text(row.delta_display, style=style)
        trend = Text(spark_text(row.spark), end="")
        return label, value, share, delta, trend

    def _sort_breakdown(self, rows: Sequence[LabelRow]) -> None:
        table = self.query_one("#kd-breakdown", DataTable)
        if not rows:
            return
        # Rows stay grouped by label key; the sort column orders them within a key.
        order = {key: index for index, key in enumerate(sorted({r.key for r in rows}))}

        def number(value: float | None) -> tuple[bool, float]:
            return (value is None, -(value or 0.0))

        def rank(row: LabelRow) -> tuple[Any, ...]:
            if self.sort_by == "label":
                return (order[row.key], row.value)
            if self.sort_by == "share":
                return (order[row.key], *number(row.share), row.value)
            if self.sort_by == "delta":
                return (
                    order[row.key],
                    *number(row.delta_pct if row.delta_pct is not None else row.delta),
                    row.value,
                )
            return (order[row.key], *number(row.current), row.value)

        by_key = {self._row_key(r): rank(r) for r in rows}
        current = [row.key.value for row in table.ordered_rows]
        ranks = [by_key[k] for k in current]
        if ranks == sorted(ranks):
            return  # already in order: nothing to redraw
        # DataTable sorts on cell values: the label cell's text names the row uniquely.
        by_label = {self._label_text(r).plain: rank(r) for r in rows}
        table.sort("label", key=lambda cell: by_label[cell.plain[2:]])

    @staticmethod
    def _label_text(row: LabelRow) -> Text:
        """A breakdown row's label; the sort finds rows by it, so it is built here only."""
        return safe_text(row.label)

    # -- key results ------------------------------------------------------------------

    def _show_key_results(self, detail: KpiDetail) -> None:
        self.set_class(bool(detail.key_results), "-has-krs")
        rows = {}
        for kr in detail.key_results:
            status = Text(kr.status_label, end="")
            if kr.error:
                status = Text("⚠ error", end="")
            rows[kr.id] = (
                safe_text(kr.title),
                safe_text(kr.objective_title),
                progress_text(kr),
                status,
            )
        sync_table(self.query_one("#kd-krs", DataTable), rows, [key for key, _ in self.KR_COLUMNS])

    # -- actions ---------------------------------------------------------------------

    def _show_marks(self) -> None:
        self.query_one("#kd-chart", ChartPanel).chosen_mark = self.mark
        if self.detail_marks is not None:
            self.query_one("#kd-marks", MarkListView).show(self.detail_marks, self.mark, "m: next")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.label_filter is not None
        if action == "next_mark":
            return self.detail_marks is not None and bool(self.detail_marks.marks)
        if action == "sort":
            return self.has_class("-has-breakdown")
        return True

    def action_range(self, range_key: str) -> None:
        if range_key == self.range_key:
            return
        self.range_key = range_key
        self.bucket = None  # a range shows best with its own bucket
        self._show_range(None)
        self.reload()

    def action_bucket(self, direction: int) -> None:
        current = self.bucket or (self.detail.bucket if self.detail else None)
        if current is None:
            return
        chosen = step_bucket(current, direction)
        if chosen == current and self.bucket is not None:
            self.notify("No smaller bucket." if direction < 0 else "No bigger bucket.", timeout=2)
            return
        self.bucket = chosen
        self.reload()

    def action_next_mark(self) -> None:
        """The next annotation in range (oldest to newest, then round): drawn apart on
        the chart, which comes into view, and marked in the list."""
        if self.detail_marks is None:
            return
        self.mark = self.detail_marks.next_key(self.mark)
        self._show_marks()
        self.query_one("#kd-chart", ChartPanel).scroll_visible(animate=False)

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        if self.detail is not None:
            self._show_breakdown(self.detail)

    def action_clear_filter(self) -> None:
        if self.label_filter is None:
            return
        self.label_filter = None
        self._after_filter_change()

    def _after_filter_change(self) -> None:
        self.refresh_bindings()
        self._show_range(self.detail)
        if self.detail is not None:
            self._show_breakdown(self.detail)
        self.reload()

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        key = message.row_key.value or ""
        if message.data_table.id == "kd-krs":
            self.app.open_kr_detail("kr", key)
            return
        label, _, value = key.partition("\x00")
        if not value:
            self.notify(
                f"Series without a {label} label cannot be picked out.", timeout=3, markup=False
            )
            return
        self.label_filter = None if self.label_filter == (label, value) else (label, value)
        self._after_filter_change()
