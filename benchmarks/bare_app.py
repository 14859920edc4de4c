"""The reference SPEC §5 scales its first-screen bar by: a bare Textual app with a dozen
widgets and a plotext chart. `bench_app.py` runs it in the same pseudo-terminal as kpitui,
so the first-screen figure can be read against what this machine does with no kpitui at
all (SPEC: "about 0.25 s after Python starts" on the machine the bars were set on).
"""

from textual.app import App, ComposeResult
from textual.widgets import Static
from textual_plotext import PlotextPlot

DONE = "VALUE-11"
"""The last value drawn: the bare app's first screen is up when it is on the terminal."""


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        for n in range(12):
            yield Static(f"VALUE-{n}")
        yield PlotextPlot()

    def on_mount(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.plot([1, 2, 3, 4, 5, 6], [3, 1, 4, 1, 5, 9])


if __name__ == "__main__":
    BareApp().run()
