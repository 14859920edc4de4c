"""The chart drill-down (SPEC §4: Enter on a chart): the board's chart, full size.

It presents the board's own `ChartView` — the same series (a split chart keeps a line
per label value), reference lines and window as the panel — at the size of the
terminal, under a line naming the window, bucket and series, and follows every new
board. A chart on one metric that a KPI reads also opens that KPI's detail (`k`).

The range keys (`1` 7d … `4` 1y, `0` all; `[`/`]` the bucket) show it over another span:
that chart is evaluated again in a thread worker (`engine.detail_chart`), on each new
board too. The marks in range (annotations) are listed under it; `m` jumps to the next
one: the chart zooms to the smallest range holding it, and the list marks it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from kpitui.engine.annotations import AnnotationView, after, marks_on_chart
from kpitui.engine.board import Board, ChartView, KpiView
from kpitui.engine.detail import step_bucket
from kpitui.engine.detail_chart import chart_detail
from kpitui.engine.ranges import range_holding
from kpitui.tui.screens.detail_base import empty_chart
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.key_footer import KeyFooter
from kpitui.tui.widgets.mark_list import MarkListView


class ChartDetailScreen(Screen[None]):
    """One chart of the board at full size, opened with Enter on its panel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="chart_detail.back", tooltip="Back to where you were"),
        *[
            Binding(
                key,
                f"range('{name}')",
                name,
                id=f"chart_detail.range_{name}",
                tooltip=f"The chart over {name}",
                group=Binding.Group("range"),
            )
            for key, name in (("1", "7d"), ("2", "30d"), ("3", "90d"), ("4", "1y"), ("0", "all"))
        ],
        Binding(
            "left_square_bracket",
            "bucket(-1)",
            "Finer",
            key_display="[",
            show=False,
            id="chart_detail.finer",
            tooltip="Smaller chart buckets (1h 6h 1d 7d 30d)",
            group=Binding.Group("bucket"),
        ),
        Binding(
            "right_square_bracket",
            "bucket(1)",
            "Coarser",
            key_display="]",
            show=False,
            id="chart_detail.coarser",
            tooltip="Bigger chart buckets (1h 6h 1d 7d 30d)",
            group=Binding.Group("bucket"),
        ),
        # The hints line under the chart says these (and `[`/`]`): in the footer they
        # would push `k` and `q` off an 80-column screen.
        Binding(
            "c",
            "compare",
            "Compare",
            show=False,
            id="chart_detail.compare",
            tooltip="Show or hide the comparison line",
        ),
        Binding(
            "m",
            "next_mark",
            "Next mark",
            show=False,
            id="chart_detail.next_mark",
            tooltip="Jump to the next annotation: the chart zooms to show it",
        ),
        Binding(
            "k",
            "kpi_detail",
            "KPI detail",
            id="chart_detail.kpi_detail",
            tooltip="Open the detail of the KPI on this chart's metric",
        ),
    ]

    HELP_TITLE: ClassVar[str] = "Chart detail"

    DEFAULT_CSS = """
    ChartDetailScreen {
        #cd-head { height: 1; background: $panel; padding: 0 1; }
        #cd-name { width: 1fr; min-width: 20; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-kpi { width: auto; max-width: 50%; margin-left: 2; color: $foreground-muted;
                  text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-sub { height: 1; padding: 0 1; color: $foreground-muted;
                  text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-problem { display: none; height: auto; padding: 0 1; color: $text-error; }
        #cd-chart { height: 1fr; }
        #cd-hints { height: 1; padding: 0 1; color: $foreground-muted;
                    text-wrap: nowrap; text-overflow: ellipsis; }
    }
    """

    class Loaded(Message):
        """The chart over the chosen range was evaluated (posted from the worker)."""

        def __init__(self, request: int, view: ChartView | None, error: str | None) -> None:
            super().__init__()
            self.request = request
            self.view = view
            self.error = error

    def __init__(self, chart_id: str) -> None:
        super().__init__()
        self.chart_id = chart_id
        """The id of the chart shown."""
        self.view: ChartView | None = None
        """The chart on screen; None until a board holding it was shown."""
        self.kpi: KpiView | None = None
        """The KPI `k` opens, or None (the key is then off)."""
        self.range_key: str | None = None
        """The range picked with 1-4/0; None: the chart's own window, as on the board."""
        self.bucket: int | None = None
        """The bucket picked with `[`/`]`; None: the range's own."""
        self.mark: AnnotationView | None = None
        """The annotation `m` jumped to, marked in the list."""
        self.loads = 0
        """Charts evaluated over a picked range and shown (tests read it)."""
        self._request = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="cd-head"):
            yield Static(id="cd-name", markup=False)
            yield Static(id="cd-kpi", markup=False)
        yield Static(id="cd-sub", markup=False)
        yield Static(id="cd-problem", markup=False)
        chart = ChartPanel(empty_chart(self.chart_id, self.chart_id), id="cd-chart")
        chart.can_focus = False  # nothing to do in it; Enter must not drill again
        yield chart
        yield Static(id="cd-hints", markup=False)
        yield MarkListView(id="cd-marks")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_board(getattr(self.app, "board", None))

    def on_kpitui_app_board_refreshed(self, message: Message) -> None:
        self.show_board(message.board)  # type: ignore[attr-defined]
        if self.range_key is not None:
            self.reload()

    def on_chart_panel_drill_down(self, message: Message) -> None:
        message.stop()  # already full size

    # -- presenting ------------------------------------------------------------------

    def show_board(self, board: Board | None) -> None:
        """Show this chart as `board` has it; keep the last one if the board lost it."""
        view = board.chart(self.chart_id) if board is not None else None
        problem = self.query_one("#cd-problem", Static)
        problem.display = view is None
        if view is None:
            update_static(
                problem,
                Text("⚠ This chart is no longer on the board (the spec changed).", end=""),
            )
            return
        kpi = board.kpi(view.kpi_id) if board is not None and view.kpi_id else None
        had_kpi, self.kpi = self.kpi, kpi
        if (kpi is None) != (had_kpi is None):
            self.refresh_bindings()  # `k` (open the KPI) comes and goes with it
        # The KPI a spec edit gave or took stays named even when the chart's data did
        # not change (update_static repaints only a changed text).
        update_static(
            self.query_one("#cd-kpi", Static),
            safe_text(f"KPI: {kpi.title}") if kpi is not None else Text(""),
        )
        if self.range_key is not None:
            return  # the picked range's chart comes from the worker
        self._show_view(view)

    def _show_view(self, view: ChartView) -> None:
        if self.mark is not None and view.marks.chosen(self.mark.key) is None:
            self.mark = None
        if view == self.view:
            # The same chart (`m` zoomed to the range it had): only the chosen mark moved.
            self._show_marks(view)
            return
        self.view = view
        with self.app.batch_update():
            self._show_marks(view)
            update_static(self.query_one("#cd-name", Static), safe_text(f"Chart · {view.title}"))
            update_static(self.query_one("#cd-sub", Static), self._about(view))
            self.query_one("#cd-chart", ChartPanel).update_view(view)

    def _show_marks(self, view: ChartView) -> None:
        """The keys the footer leaves out, on one line; the marks in range, the one `m`
        jumped to drawn apart on the chart and marked `▸` in the list."""
        hints = ["[ ] buckets"]
        if view.comparison_label:
            hints.append(f"c compare with {view.comparison_label}")
        update_static(self.query_one("#cd-hints", Static), safe_text(" · ".join(hints)))
        chosen = None if self.mark is None else self.mark.key
        self.query_one("#cd-chart", ChartPanel).chosen_mark = chosen
        self.query_one("#cd-marks", MarkListView).show(view.marks, chosen, "m: next")

    # -- the picked range -------------------------------------------------------------

    def reload(self) -> None:
        """Evaluate the chart over the picked range (again: a new board arrived)."""
        self._request += 1
        app = self.app
        self._load(
            self._request,
            app.open_reader,
            app.loaded.dashboard,
            app.as_of(),
            self.range_key or "30d",
            self.bucket,
        )

    @work(thread=True, exclusive=True, group="chart-detail", exit_on_error=False)
    def _load(
        self, request: int, open_reader, spec, as_of: int, range_key: str, bucket: int | None
    ) -> None:
        view, error = None, None
        try:
            reader = open_reader()
        except Exception as exc:  # missing, locked or unreadable store: say why on screen
            error = str(exc) or exc.__class__.__name__
        else:
            try:
                view = chart_detail(spec, reader, self.chart_id, as_of, range_key, bucket)
            except Exception as exc:  # never a traceback over the board
                error = str(exc) or exc.__class__.__name__
            finally:
                reader.close()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(request, view, error))

    def on_chart_detail_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.request != self._request or self.range_key is None:
            return
        problem = self.query_one("#cd-problem", Static)
        problem.display = message.error is not None
        if message.error is not None:
            update_static(problem, safe_text(f"⚠ {message.error}"))
        if message.view is not None:
            self.loads += 1
            self._show_view(message.view)

    @staticmethod
    def _about(view: ChartView) -> Text:
        """`180d window · 7d buckets · last per bucket · by plan: enterprise, pro`."""
        line = Text(view.reading_words, end="", no_wrap=True)
        names = [series.name for series in view.series]
        if names:
            split_by = view.split_by
            line.append(f" · by {split_by}: " if split_by else " · series: ")
            line.append_text(safe_text(", ".join(names)))
        if view.ref_lines:
            line.append(" · lines: " + ", ".join(ref.name for ref in view.ref_lines))
        return line

    # -- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "kpi_detail":
            return self.kpi is not None  # off, and out of the footer, without a KPI
        return True

    def action_range(self, range_key: str) -> None:
        if range_key == self.range_key:
            return
        self.range_key, self.bucket = range_key, None
        self.reload()

    def action_bucket(self, direction: int) -> None:
        current = self.bucket or (self.view.bucket if self.view else None)
        if current is None:
            return
        chosen = step_bucket(current, direction)
        if chosen == current:
            self.notify("No smaller bucket." if direction < 0 else "No bigger bucket.", timeout=2)
            return
        self.bucket = chosen
        self.range_key = self.range_key or "own"
        self.reload()

    def action_compare(self) -> None:
        chart = self.query_one("#cd-chart", ChartPanel)
        if self.view is None or self.view.comparison_label is None:
            self.notify("This chart has nothing to compare with.", timeout=2)
            return
        chart.comparison = not chart.comparison

    def action_next_mark(self) -> None:
        """The next annotation on this chart, in range or not (older to newer, then
        round): zoom to the smallest range that holds it, draw it apart, mark it in the
        list."""
        board = getattr(self.app, "board", None)
        groups = [board.annotations if board is not None else ()]
        if self.view is not None:
            groups.append(self.view.annotations)
        self.mark = after(marks_on_chart(groups, self._metrics()), self.mark)
        if self.mark is None:
            self.notify("No annotations on this chart.", timeout=2)
            return
        wanted = range_holding(self.app.as_of() - self.mark.ts)
        if wanted != self.range_key:
            self.range_key, self.bucket = wanted, None
            self.reload()
        elif self.view is not None:
            self._show_marks(self.view)

    def _metrics(self) -> list[str]:
        spec = self.app.loaded.dashboard
        chart = next((c for c in spec.charts if c.id == self.chart_id), None)
        return list(chart.metrics) if chart is not None else []

    def action_kpi_detail(self) -> None:
        if self.kpi is not None:
            self.app.open_kpi_detail(self.kpi.id)

    def action_back(self) -> None:
        self.app.pop_screen()
