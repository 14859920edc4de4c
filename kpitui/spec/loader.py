"""Reading a dashboard's YAML while keeping the line and column of every node.

`read_yaml` turns the file into plain Python data (dicts, lists, scalars) plus a
`SourceMap` from paths such as `("kpis", 2, "direction")` to 1-based `(line, col)`, so
every later problem — a wrong type, an unknown key, a threshold in the wrong order — can
name the exact place in the file. A file that cannot be read as YAML at all raises one
`InputError`; problems that leave the data usable (duplicate keys) are collected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NoReturn

import yaml
from msgspec import Struct, field
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kpitui.errors import InputError, KpituiError
from kpitui.literal import quoted

NodePath = tuple[str | int, ...]
Position = tuple[int, int]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
MAX_VALUES = 100_000
"""Values in a spec, aliases expanded."""
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
_TOO_DEEP = "nested too deeply"
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # None when PyYAML was built without libyaml
_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DOCS_HINT = "see docs/spec.md for how to write a dashboard"


def format_path(path: NodePath) -> str:
    """`("kpis", 2, "direction")` → `kpis[2].direction`; odd keys as `metrics['api.p90']`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY_RE.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{quoted(part)}]"
    return text


class SpecProblem(InputError):
    """One problem (or warning) in a spec, at `file:line:col`, about the key at `path`."""

    def __init__(
        self,
        detail: str,
        *,
        path: NodePath = (),
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
        severity: str = "error",
    ) -> None:
        self.path = path
        self.detail = detail
        self.severity = severity
        where = format_path(path)
        super().__init__(
            f"{where}: {detail}" if where else detail, file=file, line=line, col=col, hint=hint
        )

    @property
    def is_warning(self) -> bool:
        return self.severity == "warning"

    @property
    def full_detail(self) -> str:
        """The detail with its hint, as one phrase (what `--json` calls the message)."""
        return f"{self.detail} ({self.hint})" if self.hint else self.detail

    def __str__(self) -> str:
        text = super().__str__()
        if not self.is_warning:
            return text
        where = str(self.location)
        return f"{where}: warning: {text[len(where) + 2 :]}" if where else f"warning: {text}"


def sort_problems(problems: list[KpituiError]) -> list[KpituiError]:
    return sorted(problems, key=lambda p: (p.location.line or 0, p.location.col or 0))


class SourceMap(Struct):
    """Where each node of the YAML sits. Missing paths fall back to their nearest parent."""

    values: dict[NodePath, Position] = field(default_factory=dict)
    keys: dict[NodePath, Position] = field(default_factory=dict)
    # For scalars written on one line: how many characters precede the text itself
    # (1 for a quoted string), so a column inside a formula maps into the file.
    text_offsets: dict[NodePath, int] = field(default_factory=dict)

    def value(self, path: NodePath) -> Position:
        for end in range(len(path), -1, -1):
            pos = self.values.get(path[:end])
            if pos is not None:
                return pos
        return (1, 1)

    def key(self, path: NodePath) -> Position:
        """Where the key of this entry is written (its value's place for list items)."""
        pos = self.keys.get(path)
        return pos if pos is not None else self.value(path)

    def inside(self, path: NodePath, column: int) -> Position:
        """The file position of the 1-based `column` inside a one-line scalar."""
        line, col = self.value(path)
        offset = self.text_offsets.get(path)
        if offset is None:
            return line, col
        return line, col + offset + column - 1


class LoadedYaml(Struct):
    data: dict
    source_map: SourceMap
    problems: list[SpecProblem]
    text: str
    file: str | None = None


def _is_label_value(path: NodePath) -> bool:
    """A value inside a `labels:` mapping (not a derived metric that is called "labels")."""
    return len(path) >= 2 and path[-2] == "labels" and path[:1] != ("metrics",)


def _pos(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Walker:
    """Builds plain data from composed nodes, recording positions and duplicate keys."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.map = SourceMap()
        self.problems: list[SpecProblem] = []
        self._active: set[int] = set()
        self.walked = 0

    def _fail(self, node: Node, message: str, hint: str) -> NoReturn:
        """A problem that stops the walk (the data cannot be built), at `node`."""
        line, col = _pos(node)
        raise InputError(message, file=self.file, line=line, col=col, hint=hint)

    def walk(self, node: Node, path: NodePath) -> object:
        self.walked += 1
        if self.walked > MAX_VALUES:
            # Aliases of aliases multiply ("billion laughs"): stop before memory runs out.
            self._fail(
                node,
                f"more than {MAX_VALUES:,} values once aliases are expanded",
                "a dashboard needs far fewer: use fewer nested aliases (*name)",
            )
        self.map.values[path] = _pos(node)
        if id(node) in self._active:
            self._fail(
                node,
                "an alias refers to the node that holds it",
                "YAML anchors (&name) cannot contain their own alias (*name)",
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: NodePath) -> object:
        if node.start_mark.line == node.end_mark.line:
            self.map.text_offsets[path] = 1 if node.style in ("'", '"') else 0
        if _is_label_value(path) and node.tag != _NULL_TAG:
            # A label matches the stored text: `region: no`, `ver: 1.10` and `zip: 0123`
            # mean those words, not YAML's false, 1.1 and octal 83.
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:
            # e.g. `2026-13-45` looks like a date to YAML but is none: keep the text and
            # let the model say what it expected.
            return node.value

    def _mapping(self, node: MappingNode, path: NodePath) -> dict:
        result: dict = {}
        merged: list[Node] = []
        own: list[tuple[ScalarNode, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(
                    value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                )
                continue
            if not isinstance(key_node, ScalarNode):
                line, col = _pos(key_node)
                self.problems.append(
                    SpecProblem(
                        "a key must be plain text, not a list or a mapping",
                        path=path,
                        file=self.file,
                        line=line,
                        col=col,
                    )
                )
                continue
            own.append((key_node, value_node))
        # `<<: [*a, *b]`: keys of earlier maps win over later ones, the node's own keys
        # win over all of them; walk in reverse so the winner's position is written last.
        for source in reversed(merged):
            if not isinstance(source, MappingNode):
                self._fail(
                    source,
                    "`<<` merges only mappings",
                    "write `<<: *anchor` where the anchor names a mapping",
                )
            result.update(self._mapping(source, path))
        first_seen: dict[str, Position] = {}
        for key_node, value_node in own:
            key = str(key_node.value)
            key_pos = _pos(key_node)
            if key in first_seen:
                self.problems.append(
                    SpecProblem(
                        f"duplicate key (first written at line {first_seen[key][0]})",
                        path=(*path, key),
                        file=self.file,
                        line=key_pos[0],
                        col=key_pos[1],
                        hint="keep one of them",
                    )
                )
                continue
            first_seen[key] = key_pos
            self.map.keys[(*path, key)] = key_pos
            result[key] = self.walk(value_node, (*path, key))
        return result


# YAML's own words for common slips, and what they mean to someone writing a spec.
_PLAIN_WORDS = [
    (
        "but found '<scalar>'",
        "more text after a value has ended",
        "quote the whole value; inside '...' write '' for a single quote",
    ),
    (
        "expected <block end>",
        "this line's indentation does not line up with the lines above",
        "indent keys of the same mapping by the same number of spaces",
    ),
    (
        "mapping values are not allowed here",
        "a ': ' where YAML does not expect a key",
        "check the indentation, or quote text that holds ': '",
    ),
    (
        "cannot start any token",
        "a character YAML does not accept here",
        "indent with spaces, not tabs; quote text that starts with @ or `",
    ),
    ("expected ',' or ']'", "a [list] is not closed", "close it with ']'"),
    ("expected ',' or '}'", "a {mapping} is not closed", "close it with '}'"),
    ("found unexpected end of stream", "a quoted text is never closed", "close the quote"),
    (
        "could not determine a constructor",
        "a tag YAML cannot read safely",
        "tags such as !!python/... are not allowed in a dashboard",
    ),
    (
        "found undefined alias",
        "an alias (*name) without its anchor",
        "define the anchor (&name) before using *name",
    ),
    (
        "expected a single document",
        "more than one YAML document (---)",
        "keep one dashboard per file",
    ),
]


def _syntax_error(exc: yaml.YAMLError, file: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    message, hint = problem, "check the indentation, and quote text that holds ': ' or '#'"
    for words, plain, fix in _PLAIN_WORDS:
        if words in problem or words in str(getattr(exc, "context", "")):
            message, hint = f"{plain} (YAML: {problem})", fix
            break
    if "\\t" in problem:
        message, hint = "a tab character", "indent with spaces, not tabs"
    return InputError(f"not valid YAML: {message}", file=file, line=line, col=col, hint=hint)


MAX_SPEC_BYTES = 10_000_000


def read_text(path: Path, file: str) -> str:
    """The spec's text, or one clear InputError for a missing file, a directory, bad bytes."""
    if path.is_dir():
        inside = path / "dashboard.yaml"
        hint = f"did you mean {inside}?" if inside.is_file() else "pass the dashboard's YAML file"
        raise InputError("is a directory, not a dashboard file", file=file, hint=hint)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise InputError(
            "no such file",
            file=file,
            hint="pass the spec's path, e.g. path/to/dashboard.yaml, or run `kpitui demo`",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_SPEC_BYTES:
        # /dev/zero, or a data file passed for the spec: never read it all into memory.
        raise InputError(
            f"more than {MAX_SPEC_BYTES // 1_000_000} MB: too large to be a dashboard spec",
            file=file,
            hint="pass the dashboard's YAML file",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            file=file,
            line=line,
            col=col,
            hint="save the file as UTF-8",
        ) from None


def _compose(text: str) -> tuple[yaml.SafeLoader, Node | None]:
    """The document's node tree, and the loader that composed it (to construct scalars).

    libyaml composes a spec about ten times faster than the pure-Python parser, with the
    same marks; a text it rejects is parsed again by the Python parser, whose messages
    `_syntax_error` turns into the ones users read."""
    if _FAST_LOADER is not None:
        fast = _FAST_LOADER(text)
        try:
            return fast, fast.get_single_node()
        except yaml.YAMLError as exc:
            fast.dispose()
            if getattr(exc, "problem", None) == _LIBYAML_TOO_DEEP:
                raise  # the Python parser would only overflow the stack on it
    loader = yaml.SafeLoader(text)
    try:
        return loader, loader.get_single_node()
    except BaseException as exc:
        loader.dispose()
        if isinstance(exc, RecursionError):
            raise yaml.YAMLError(_TOO_DEEP) from None
        raise


def parse_yaml(text: str, file: str) -> LoadedYaml:
    """Compose the YAML text into data and a source map; see the module docstring."""
    try:
        loader, node = _compose(text)
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses anywhere (NUL, ESC, ...): it has a position, no mark.
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise InputError(
            f"not valid YAML: a control character (U+{exc.character:04X}) is in the file",
            file=file,
            line=line,
            col=col,
            hint="delete it: pasted text often brings them",
        ) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
    try:
        if node is None:
            raise InputError(
                "the file is empty",
                file=file,
                line=1,
                col=1,
                hint="start with `title:` and a list of `kpis:`; " + DOCS_HINT,
            )
        if not isinstance(node, MappingNode):
            line, col = _pos(node)
            found = "a list" if isinstance(node, SequenceNode) else f"the text {quoted(node.value)}"
            raise InputError(
                f"the top level must be a mapping of keys (title:, kpis:, ...), found {found}",
                file=file,
                line=line,
                col=col,
                hint=DOCS_HINT,
            )
        walker = _Walker(loader, file)
        try:
            data = walker.walk(node, ())
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, file) from None
        except RecursionError:
            line, col = _pos(node)
            raise InputError("nested too deeply", file=file, line=line, col=col) from None
    finally:
        loader.dispose()
    assert isinstance(data, dict)
    return LoadedYaml(data, walker.map, walker.problems, text, file)


def read_yaml(path: Path, file: str | None = None) -> LoadedYaml:
    """Read and compose a spec file. `file` is how locations name it (default: the path)."""
    name = file if file is not None else str(path)
    return parse_yaml(read_text(path, name), name)
