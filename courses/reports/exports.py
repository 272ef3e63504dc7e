"""CSV of completions and credit, written a batch of rows at a time.

The same rows go to the download button and to ``shiftwell reports completions``. Cells
come from people and partners (names, course titles), and a spreadsheet runs a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula ("CSV
injection", OWASP): such text cells get a leading apostrophe, which spreadsheets show as
text and never evaluate.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Rows per chunk handed to the response (or stdout): big enough to be cheap, small
#: enough that the first bytes leave at once.
CHUNK_ROWS = 500


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], bom: bool = False
) -> Iterator[str]:
    """CSV text (RFC 4180, CRLF line ends) in chunks: the header first, then rows.

    ``bom``: start with a UTF-8 byte order mark, which Excel needs to read UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow([safe_cell(row.get(column, "")) for column in columns])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON list, streamed one object per line."""
    first = True
    yield "["
    for row in rows:
        yield ("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "\n]\n" if not first else "]\n"
