"""kpitui: a terminal dashboard for product KPIs and OKRs."""

__version__ = "0.1.0"
