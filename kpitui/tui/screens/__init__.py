"""Screens pushed over the board: the help screen and the drill-downs."""
