"""What `kpitui serve --help` names on every start of the CLI, without aiohttp: the
environment variable that holds the token and its shortest length."""

TOKEN_ENV = "KPITUI_SERVE_TOKEN"
MIN_TOKEN_LENGTH = 16
"""A shorter token could be guessed through the 401s: nothing here slows a guesser."""
