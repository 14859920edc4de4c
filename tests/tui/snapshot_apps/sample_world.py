"""The repo's own sample board (dashboard.yaml over sample_data) in a temp dir.

QA found most layout bugs on this board, with its tall North Star card and rows of
different lengths, so tests replay them here. The spec is copied next to a store built by
`kpitui.sample_data.generate` for 60 days ending at `AS_OF`; the app gets a `FixedClock` and a
refresh of one hour, so only the polls a test asks for ever run.
"""

from __future__ import annotations

import re
from pathlib import Path

from kpitui.sample_data.generate import generate
from kpitui.spec import LoadedSpec, load_dashboard
from kpitui.timeutil import FixedClock, parse_time
from kpitui.tui.app import KpituiApp

REPO = Path(__file__).resolve().parents[3]
AS_OF = parse_time("2026-11-24T12:00:00Z")


def make_sample_world(tmp_path: Path, *, layout: bool = True) -> LoadedSpec:
    """The sample spec and store in `tmp_path`, loaded; `layout=False` drops the spec's
    `layout:` for the default page."""
    text = (REPO / "dashboard.yaml").read_text(encoding="utf-8")
    if not layout:
        text = text[: text.index("\nlayout:")] + "\n"
    spec = tmp_path / "dashboard.yaml"
    spec.write_text(re.sub(r"(?m)^refresh:.*$", "refresh: 1h", text), encoding="utf-8")
    generate(tmp_path / "metrics.db", end=AS_OF, days=60)
    return load_dashboard(spec)


def make_sample_app(tmp_path: Path, *, layout: bool = True, **kwargs: object) -> KpituiApp:
    loaded = make_sample_world(tmp_path, layout=layout)
    return KpituiApp(loaded, store_path=loaded.store_path, clock=FixedClock(AS_OF), **kwargs)
