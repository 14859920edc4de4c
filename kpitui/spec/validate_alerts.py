"""Checks of the spec's alert rules (`alerts:`, and `alert:` on a KPI or key result),
each problem at its line: a target that is neither a command nor a webhook (or both),
a command that cannot be split or is not there, a webhook URL that is not http(s), a
`url_env` that is no variable name or is not set, a secret Slack URL written in the spec.

A missing program or an unset variable is a warning: the machine running `check` (a
PM's laptop) is often not the one running `kpitui watch`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kpitui.literal import quoted
from kpitui.spec.alert_rules import command_words, notify_paths, webhook_of
from kpitui.spec.sources import ENV_NAME_RE

if TYPE_CHECKING:
    from kpitui.spec.models import Dashboard, Target
    from kpitui.spec.problems import Problems

# Programs whose first argument is the script they run.
_INTERPRETER = re.compile(r"(python[0-9.]*|sh|bash|zsh|node|ruby|perl|php|deno|bun)\Z")
_SECRET_HOSTS = ("hooks.slack.com", "discord.com", "discordapp.com", "webhook.office.com")


def check_alerts(problems: Problems, d: Dashboard) -> None:
    base = Path(problems.file).parent if problems.file else None
    for path, rule in notify_paths(d):
        for i, target in enumerate(rule.notify or ()):
            check_target(problems, (*path, "notify", i), target, base)


def check_target(problems: Problems, path: tuple, target: Target, base: Path | None) -> None:
    if target.command is None and target.webhook is None:
        problems.error(
            path,
            "a notify target needs `command:` or `webhook:`",
            'e.g. `- command: "python3 hooks/page.py"` or `- webhook: {url_env: SLACK_URL}`',
        )
        return
    if target.command is not None and target.webhook is not None:
        problems.error(
            (*path, "webhook"),
            "a notify target is a command or a webhook, not both",
            "write each as its own `- ` item",
        )
        return
    if target.command is not None:
        _check_command(problems, (*path, "command"), target, base)
    else:
        _check_webhook(problems, path, target)


def _check_command(problems: Problems, path: tuple, target: Target, base: Path | None) -> None:
    try:
        words = command_words(target)
    except ValueError as exc:
        problems.error(path, f"the command cannot be split into words: {exc}", "close the quote")
        return
    if not words:
        problems.error(path, "the command is empty", 'e.g. command: "python3 hooks/page.py"')
        return
    program = words[0]
    script = words[1] if len(words) > 1 and _INTERPRETER.match(Path(program).name) else None
    if script is not None and not script.startswith("-"):
        found = Path(script).expanduser()
        if base is not None and not found.is_absolute():
            found = base / found
        if not found.is_file():
            problems.warn(
                path,
                f"the script {quoted(script)} does not exist",
                "a relative path is taken from the spec's folder",
            )
    if "/" in program:
        found = Path(program).expanduser()
        if base is not None and not found.is_absolute():
            found = base / found
        if not found.is_file():
            problems.warn(
                path,
                f"the program {quoted(program)} does not exist",
                "a relative path is taken from the spec's folder",
            )
        elif not os.access(found, os.X_OK):
            problems.warn(
                path,
                f"the program {quoted(program)} is not executable",
                f"chmod +x it, or run it through its interpreter: python3 {program}",
            )
    elif shutil.which(program) is None:
        problems.warn(
            path,
            f"no program {quoted(program)} on this machine's PATH",
            "the command runs without a shell, where `kpitui watch` runs",
        )


def _check_webhook(problems: Problems, path: tuple, target: Target) -> None:
    hook = webhook_of(target)
    assert hook is not None
    written_as_mapping = not isinstance(target.webhook, str)
    where = (*path, "webhook", "url") if written_as_mapping else (*path, "webhook")
    if hook.url is None and hook.url_env is None:
        problems.error(
            (*path, "webhook"),
            "a webhook needs `url:` or `url_env:`",
            "url_env: the environment variable holding the URL, so no secret sits in the spec",
        )
        return
    if hook.url is not None and hook.url_env is not None:
        problems.error(
            (*path, "webhook", "url_env"), "give `url:` or `url_env:`, not both", "keep one"
        )
        return
    if hook.url is not None:
        problem = url_problem(hook.url)
        if problem is not None:
            problems.error(where, problem, "write it as https://host/path")
            return
        host = urlsplit(hook.url).hostname or ""
        if host.endswith(_SECRET_HOSTS):
            problems.warn(
                where,
                f"this {host} URL is a secret, and anyone who reads the spec can post with it",
                "put it in an environment variable and write `webhook: {url_env: NAME}`",
            )
        return
    name = hook.url_env or ""
    env_path = (*path, "webhook", "url_env")
    if not ENV_NAME_RE.match(name):
        problems.error(
            env_path,
            f"{quoted(name)} is not an environment variable name",
            "use letters, digits and _, e.g. SLACK_URL",
        )
    elif name not in os.environ:
        problems.warn(
            env_path,
            f"the environment variable {name} is not set here",
            "`kpitui watch` reads it where it runs; set it there",
        )
    elif url_problem(os.environ[name]) is not None:
        # Said without the value: it is the secret the variable keeps out of the spec.
        problems.warn(
            env_path,
            f"the environment variable {name} does not hold an http(s) URL here",
            "set it to the whole URL, https:// and all",
        )


def url_problem(url: str) -> str | None:
    """Why `url` is no webhook kpitui can post to, or None."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a port that is no number)
    except ValueError as exc:
        return f"{quoted(url)} is not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        return f"a webhook URL must be http:// or https://, not {shown}"
    if not parts.hostname:
        return f"{quoted(url)} names no host"
    return None
