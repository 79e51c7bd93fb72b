"""Reading and writing lead, account, event and outcome files.

``read_frame`` turns a CSV, Parquet or NDJSON file into a typed frame and reports every bad
cell as a located :class:`~leadgate.exceptions.Problem`; ``write_frame`` writes frames back
(CSV made spreadsheet-safe); ``write_problems_report`` writes those problems as CSV.
"""

from __future__ import annotations

from leadgate.io.contracts import (
    ACCOUNTS,
    CONTRACTS,
    EVENTS,
    LEADS,
    OUTCOMES,
    ColumnType,
    FrameContract,
)
from leadgate.io.readers import (
    SUPPORTED_EXTENSIONS,
    ReadResult,
    align_id_types,
    file_format,
    read_frame,
)
from leadgate.io.writers import (
    WRITABLE_EXTENSIONS,
    csv_safe,
    neutralise_formulas,
    problems_frame,
    write_frame,
    write_problems_report,
)

__all__ = [
    "ACCOUNTS",
    "CONTRACTS",
    "EVENTS",
    "LEADS",
    "OUTCOMES",
    "SUPPORTED_EXTENSIONS",
    "WRITABLE_EXTENSIONS",
    "ColumnType",
    "FrameContract",
    "ReadResult",
    "align_id_types",
    "csv_safe",
    "file_format",
    "neutralise_formulas",
    "problems_frame",
    "read_frame",
    "write_frame",
    "write_problems_report",
]
