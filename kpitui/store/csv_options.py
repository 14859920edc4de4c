"""How a CSV file is written: its separator, its decimal mark and thousands separator,
the column that holds the time, and the columns of a wide file that are labels.

Flags say it (`--sep`, `--decimal`, `--thousands`, `--time-column`, `--label-column`);
only the separator is read off the header when not given, and only when one reading
fits. A number that the flags in force do not read is refused with the flag or the edit
that reads it — never guessed (is `1,234` 1234 or 1.234?).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from msgspec import Struct

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.checks import NUMBER_HINT

TIME_COLUMNS = ("time", "timestamp", "date", "datetime", "ts")
"""The header names read as the time column (any case) when --time-column is not given."""

SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}
"""What --sep accepts, and the separator each means."""

_SNIFFED = (",", ";", "\t")
_SEP_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
DECIMALS = (".", ",")
THOUSANDS = (",", ".", " ", "'")


def recognised_time_columns() -> str:
    return ", ".join(TIME_COLUMNS[:-1]) + " or " + TIME_COLUMNS[-1]


class CsvOptions(Struct, frozen=True):
    """The flags of a CSV import; `sep` None means "read it off the header"."""

    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    time_column: str | None = None
    label_columns: tuple[str, ...] = ()

    @property
    def plain_numbers(self) -> bool:
        """Numbers as Python's float reads them: the fast path."""
        return self.decimal == "." and self.thousands is None

    def check(self) -> None:
        """Flags that contradict each other, before any file is read."""
        if self.decimal not in DECIMALS:
            raise InputError(
                f"--decimal {quoted(self.decimal)} is not a decimal mark", hint="use . or ,"
            )
        if self.thousands is not None and self.thousands not in THOUSANDS:
            raise InputError(
                f"--thousands {quoted(self.thousands)} is not a thousands separator",
                hint="use , . ' or a space",
            )
        if self.thousands == self.decimal:
            raise InputError(
                f"--thousands and --decimal are both {quoted(self.decimal)}",
                hint="the other of the two is usually , or .: e.g. --decimal , --thousands .",
            )


def separator_arg(text: str) -> str:
    """`--sep`'s value: , ; tab (or \\t) |."""
    found = SEPARATORS.get(text if text.strip() else text.lower())
    if found is None:
        found = SEPARATORS.get(text.strip().lower())
    if found is None:
        raise ValueError(f"{quoted(text)} is not a separator: use , ; tab or |")
    return found


def separator_name(sep: str) -> str:
    return _SEP_NAMES.get(sep, quoted(sep))


_QUOTED = re.compile(r'"[^"]*"')


def sniff_separator(header: str, file: str) -> str:
    """The separator of a file whose header is `header`: the one of , ; tab it holds
    (outside quotes); a comma for a header of one column. Two of them: refused."""
    bare = _QUOTED.sub("", header)
    present = [sep for sep in _SNIFFED if sep in bare]
    if len(present) > 1:
        names = " and ".join(separator_name(sep) for sep in present)
        raise InputError(
            f"the header holds both {names}: cannot tell which separates the columns",
            file=file,
            line=1,
            hint=f"name it: --sep {present[0] if present[0] != chr(9) else 'tab'}"
            f" or --sep {present[1] if present[1] != chr(9) else 'tab'}",
        )
    return present[0] if present else ","


def find_time_column(names: Sequence[str], options: CsvOptions, file: str) -> int | None:
    """The index of the time column: --time-column's, else the one recognised name."""
    lowered = [n.lower() for n in names]
    if options.time_column is not None:
        wanted = options.time_column.strip().lower()
        if wanted not in lowered:
            raise InputError(
                f"--time-column {quoted(options.time_column)}: no such column in the header",
                file=file,
                line=1,
                hint="the columns are " + ", ".join(quoted(n) for n in names[:12]),
            )
        return lowered.index(wanted)
    times = [i for i, n in enumerate(lowered) if n in TIME_COLUMNS]
    if len(times) > 1:
        # The second would silently become a label (or, in a wide file, a metric).
        first, second = (quoted(names[i]) for i in times[:2])
        raise InputError(
            f"the header has two time columns, {first} and {second}",
            file=file,
            line=1,
            hint=f"name the time with --time-column {names[times[0]]}, or rename one",
        )
    return times[0] if times else None


def no_time_column(file: str, what: str) -> InputError:
    return InputError(
        "the header has no time column",
        file=file,
        line=1,
        hint=f"name it {recognised_time_columns()}, or pass --time-column NAME ({what})",
    )


def find_label_columns(names: Sequence[str], options: CsvOptions, file: str) -> list[int]:
    lowered = [n.lower() for n in names]
    found = []
    for wanted in options.label_columns:
        if wanted.strip().lower() not in lowered:
            raise InputError(
                f"--label-column {quoted(wanted)}: no such column in the header",
                file=file,
                line=1,
                hint="the columns are " + ", ".join(quoted(n) for n in names[:12]),
            )
        found.append(lowered.index(wanted.strip().lower()))
    return found


# -- numbers ----------------------------------------------------------------------------


class NumberForm:
    """Reads value cells as the flags say: `1.234,5` with --decimal , --thousands ."""

    def __init__(self, options: CsvOptions) -> None:
        self.decimal, self.thousands = options.decimal, options.thousands
        self.plain = options.plain_numbers
        t, d = re.escape(self.thousands or ""), re.escape(self.decimal)
        self._grouped = re.compile(rf"[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?\Z") if t else None

    def __call__(self, cell: str) -> float:
        text = cell.strip()
        if self.thousands and self.thousands in text:
            if self._grouped is None or not self._grouped.match(text):
                raise ValueError(cell)  # 1.23.4 or 12.34 with --thousands .: not grouped
            text = text.replace(self.thousands, "")
        if self.decimal == ",":
            if "." in text:
                raise ValueError(cell)
            text = text.replace(",", ".")
        return float(text)


_CURRENCY = "$€£¥₹"
_PERCENT = re.compile(r"([+-]?\d[\d.,' ]*)\s*%\Z")
_UNIT = re.compile(r"([+-]?\d[\d.,]*)\s*[A-Za-zµ°/]+\Z")
_GROUPED = {
    sep: re.compile(rf"[+-]?\d{{1,3}}({re.escape(sep)}\d{{3}})+([.,]\d+)?\Z") for sep in THOUSANDS
}
_ONE_GROUP = re.compile(r"[+-]?\d{1,3}[.,]\d{3}\Z")  # 1,234 or 1.234: either reading fits
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+\Z")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+\Z")


def number_hint(cell: str, form: NumberForm | None = None) -> str:
    """What reads `cell` as a number: the flags that would (`form`: the flags in force;
    None for a file without them, JSON, where the hint is the edit), or the edit. Where a
    cell has two readings (`1,234`), both are said: which one is the user's to say."""
    text = cell.strip()
    decimal = form.decimal if form else "."
    thousands = form.thousands if form else None
    if text[:1] in _CURRENCY or text[-1:] in _CURRENCY:
        sign = text[0] if text[:1] in _CURRENCY else text[-1]
        bare = text.strip(_CURRENCY + " ")
        edit = f"drop the {sign}: {bare} (a KPI's format: currency shows it)"
        if bare and _value_of(bare, form) is None:
            return f"{edit}, and {number_hint(bare, form)}"
        return edit
    percent = _PERCENT.match(text)
    if percent:
        value = _value_of(percent.group(1), form)
        fraction = f"{value / 100:.10g}" if value is not None else "its hundredth"
        return (
            f"a percentage: write the fraction {fraction} (a KPI with format: percent"
            f" shows it as {text})"
        )
    if _ONE_GROUP.match(text):
        mark = "," if "," in text else "."
        grouped, fractional = text.replace(mark, ""), text.replace(mark, ".")
        if form is None:
            return f"write {grouped} or {fractional}: a {mark!r} here could mean either"
        return (
            f"--thousands {mark} reads it as {grouped}, --decimal {mark} as {fractional}: say which"
        )
    for sep, grouped in _GROUPED.items():
        if sep != thousands and grouped.match(text):
            rest = text.replace(sep, "")
            mark = "," if "," in rest else "."
            needs = [f"--thousands {_shell(sep)}"]
            if mark != decimal:
                needs.insert(0, f"--decimal {mark}")
            return _flags_or_edit(form, " ".join(needs), rest.replace(",", "."))
    if _COMMA_DECIMAL.match(text) and decimal != ",":
        return _flags_or_edit(form, "--decimal ,", text.replace(",", "."))
    if _DOT_DECIMAL.match(text) and decimal == ",":
        return f"with --decimal , the decimal mark is a comma: write {text.replace('.', ',')}"
    unit = _UNIT.match(text)
    if unit:
        return f"drop the unit: {unit.group(1)} (a KPI's title or format says it)"
    return NUMBER_HINT


def _shell(sep: str) -> str:
    return {" ": "' '", "'": '"\'"'}.get(sep, sep)


def _value_of(text: str, form: NumberForm | None) -> float | None:
    try:
        return form(text) if form else float(text)
    except ValueError:
        return None


def _flags_or_edit(form: NumberForm | None, flags: str, plain: str) -> str:
    return f"{flags} reads it as {plain}" if form is not None else f"write it as {plain}"
