"""`kpitui serve`: the live board in a browser, one `kpitui run` per tab, through
textual-serve (`server`), behind a token and origin gate (`gate`)."""
