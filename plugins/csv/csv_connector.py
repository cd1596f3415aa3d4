"""CSV <-> JSON reshaper: a Weft connector in Python, using only the standard
library's ``csv`` module.

- ``parse``: CSV text -> rows (objects keyed by the header, or arrays), with
  the delimiter, the header and typed numbers as options.
- ``format``: rows (objects or arrays) -> CSV text, columns chosen or inferred (sorted).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

from weft_sdk import Action, Call, Connector, Manifest, WeftError

# Numbers as JSON writes them; "007" or "1e5x" stay text (zip codes, ids).
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_ROWS = 100_000


def _delimiter(value: str) -> str:
    if value == "\\t":
        return "\t"
    if len(value) != 1 or value in "\r\n\"":
        raise ValueError(f"delimiter: must be one character (not a quote or a line break), got {value!r}")
    return value


@dataclass
class ParseInput:
    text: str
    delimiter: str = ","
    header: bool = True
    numbers: bool = False
    strict: bool = True

    def __post_init__(self) -> None:
        self.delimiter = _delimiter(self.delimiter)


@dataclass
class FormatInput:
    rows: List[Union[dict, list]]
    columns: Optional[List[str]] = None
    delimiter: str = ","
    header: bool = True

    def __post_init__(self) -> None:
        self.delimiter = _delimiter(self.delimiter)


def _typed(cell: str) -> Any:
    if NUMBER.fullmatch(cell):
        number = float(cell)
        return int(cell) if re.fullmatch(r"-?(0|[1-9][0-9]*)", cell) else number
    return cell


def parse(p: ParseInput) -> dict:
    reader = csv.reader(io.StringIO(p.text), delimiter=p.delimiter, strict=True)
    convert = _typed if p.numbers else (lambda c: c)
    columns: Optional[List[str]] = None
    rows: List[Any] = []
    try:
        for record in reader:
            if not record or record == [""]:
                continue  # blank line
            line = reader.line_num
            if p.header and columns is None:
                columns = [c.strip() for c in record]
                seen = set()
                for i, c in enumerate(columns):
                    if not c:
                        raise WeftError.invalid_input(f"input.text: line {line}: column {i + 1} of the header is empty")
                    if c in seen:
                        raise WeftError.invalid_input(f"input.text: line {line}: column `{c}` appears twice in the header")
                    seen.add(c)
                continue
            if len(rows) >= MAX_ROWS:
                raise WeftError.invalid_input(f"input.text: more than {MAX_ROWS} rows")
            if columns is None:
                rows.append([convert(c) for c in record])
                continue
            if len(record) != len(columns) and p.strict:
                raise WeftError.invalid_input(
                    f"input.text: line {line}: {len(record)} field{'s' if len(record) != 1 else ''}, the header has {len(columns)} "
                    "(set strict: false to fill missing fields with null and drop extra ones)")
            cells = record + [None] * (len(columns) - len(record))
            rows.append({c: (None if v is None else convert(v)) for c, v in zip(columns, cells)})
    except csv.Error as e:
        raise WeftError.invalid_input(f"input.text: line {reader.line_num}: {e}") from None
    return {"columns": columns or [], "rows": rows, "count": len(rows)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))  # nested objects and arrays as JSON text


def format_rows(f: FormatInput) -> dict:
    columns = f.columns
    if columns is None:
        # JSON objects have no key order (the host passes them with sorted
        # keys), so inferred columns are sorted; pass `columns` to choose.
        columns = sorted({k for row in f.rows if isinstance(row, dict) for k in row})
    out = io.StringIO()
    writer = csv.writer(out, delimiter=f.delimiter, lineterminator="\n")
    if f.header and columns:
        writer.writerow(columns)
    for row in f.rows:
        if isinstance(row, dict):
            writer.writerow([_cell(row.get(c)) for c in columns])
        else:
            writer.writerow([_cell(v) for v in row])
    return {"text": out.getvalue(), "count": len(f.rows)}


class Csv(Connector):
    def manifest(self) -> Manifest:
        options = {
            "delimiter": {"type": "string", "default": ",", "description": "One character; \\t for tab."},
            "header": {"type": "boolean", "default": True},
        }
        return (
            Manifest("csv", "0.1.0", "Reshape CSV text into JSON rows and JSON rows into CSV.")
            .action(
                Action("parse", "Parse CSV text into rows (objects keyed by the header, or arrays).")
                .input_schema({
                    "type": "object", "required": ["text"],
                    "properties": {
                        "text": {"type": "string"}, **options,
                        "numbers": {"type": "boolean", "default": False,
                                    "description": "Turn numeric cells into JSON numbers (\"007\" stays text)."},
                        "strict": {"type": "boolean", "default": True,
                                   "description": "Refuse rows whose field count differs from the header's."},
                    },
                })
                .output_schema({
                    "type": "object",
                    "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                   "rows": {"type": "array"}, "count": {"type": "integer"}},
                })
            )
            .action(
                Action("format", "Format rows (objects or arrays) as CSV text.")
                .input_schema({
                    "type": "object", "required": ["rows"],
                    "properties": {
                        "rows": {"type": "array", "items": {"type": ["object", "array"]}},
                        "columns": {"type": "array", "items": {"type": "string"},
                                    "description": "Default: every object key, sorted."},
                        **options,
                    },
                })
                .output_schema({
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "count": {"type": "integer"}},
                })
            )
        )

    def invoke(self, call: Call):
        if call.action == "parse":
            return parse(call.input(ParseInput))
        if call.action == "format":
            return format_rows(call.input(FormatInput))
        raise WeftError.unknown_action(call.action)
