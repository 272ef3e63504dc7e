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
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Rows per chunk handed to the response (or stdout): big enough to be cheap, small
#: enough that the first bytes leave at once.
CHUNK_ROWS = 500


def csv_chunks(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    text_columns: Collection[int] | None = None,
    bom: bool = False,
) -> Iterator[str]:
    """CSV text (RFC 4180, CRLF line ends) in chunks: the header first, then ``rows``
    (sequences in the order of ``columns``).

    ``text_columns``: positions of cells that may hold outside text and are made safe
    (default: all). ``bom``: start with a UTF-8 byte order mark, which Excel needs to
    read UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(columns)
    unsafe = sorted(text_columns if text_columns is not None else range(len(columns)))
    for count, row in enumerate(rows, 1):
        cells = list(row)
        for index in unsafe:
            value = cells[index]
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                cells[index] = "'" + value
        writer.writerow(cells)
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[str]:
    """A JSON list of objects (keys: ``columns``), streamed one object per line."""
    first = True
    yield "["
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        yield ("\n  " if first else ",\n  ") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "\n]\n" if not first else "]\n"
