"""The numbers behind the drill-down screens (SPEC §4), pure: no Textual here.

`kpi_detail` feeds the KPI detail screen, `kr_detail` the key-result and objective
detail screen. Both reuse the board's own evaluation (`engine.kpi`, `engine.okr`) so a
detail never disagrees with the card or tree node it was opened from.
"""

from kpitui.engine.detail_kpi import (
    BUCKET_LADDER,
    BUCKET_NAMES,
    RANGE_KEYS,
    RANGE_WORDS,
    Breakdown,
    DetailNotFound,
    KpiDetail,
    KrUse,
    LabelRow,
    RangeKey,
    RangeStats,
    auto_bucket,
    kpi_detail,
    step_bucket,
)
from kpitui.engine.detail_okr import (
    CheckinRow,
    KrDetail,
    NodeKind,
    NodeRow,
    day_grid,
    kr_detail,
)

__all__ = [
    "BUCKET_LADDER",
    "BUCKET_NAMES",
    "RANGE_KEYS",
    "RANGE_WORDS",
    "Breakdown",
    "CheckinRow",
    "DetailNotFound",
    "KpiDetail",
    "KrDetail",
    "KrUse",
    "LabelRow",
    "NodeKind",
    "NodeRow",
    "RangeKey",
    "RangeStats",
    "auto_bucket",
    "day_grid",
    "kpi_detail",
    "kr_detail",
    "step_bucket",
]
