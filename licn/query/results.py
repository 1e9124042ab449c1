"""A query result as text: a table for people, CSV, JSON or Markdown."""
from __future__ import annotations

import csv
import io
import json


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_result(result, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.as_dicts(), ensure_ascii=False, indent=1) + "\n"
    cells = [[_cell(v) for v in row] for row in result.rows]
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([result.columns, *cells])
        return buf.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(result.columns) + " |", "|" + "---|" * len(result.columns)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    from rich.console import Console
    from rich.table import Table
    table = Table(*result.columns, show_lines=False)
    for row in cells:
        table.add_row(*row)
    buf = io.StringIO()
    Console(file=buf, width=200).print(table)
    return buf.getvalue() + f"{len(result.rows)} row(s)\n"
