"""Reading and writing lead, account, event and outcome files.

``read_frame`` turns a CSV, Parquet or NDJSON file into a typed frame and reports every bad
cell as a located :class:`~leadgate.exceptions.Problem`; ``write_frame`` writes frames back
(CSV made spreadsheet-safe); ``write_problems_report`` writes those problems as CSV.
``load_mapping`` reads CRM exports (HubSpot, Salesforce, custom YAML mappings) and
``export_frame`` turns scores into a CRM's import format.
"""

from __future__ import annotations

from leadgate.io._mapping_spec import FrameKind, MappingError
from leadgate.io.contracts import (
    ACCOUNTS,
    COMPANY,
    COMPANY_DOMAIN,
    CONTRACTS,
    CRM_STATUS,
    EVENTS,
    LEADS,
    LIFECYCLE_STAGE,
    OUTCOMES,
    OWNER,
    STAGE_HISTORY,
    ColumnType,
    FrameContract,
)
from leadgate.io.exports import EXPORT_COLUMNS, export_frame
from leadgate.io.mappings import (
    ColumnMapping,
    ValueRule,
    apply_mapping,
    builtin_mappings,
    load_mapping,
)
from leadgate.io.normalise import (
    domain_problem,
    email_problem,
    normalise_domain,
    normalise_email,
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
    "COMPANY",
    "COMPANY_DOMAIN",
    "CONTRACTS",
    "CRM_STATUS",
    "EVENTS",
    "EXPORT_COLUMNS",
    "LEADS",
    "LIFECYCLE_STAGE",
    "OUTCOMES",
    "OWNER",
    "STAGE_HISTORY",
    "SUPPORTED_EXTENSIONS",
    "WRITABLE_EXTENSIONS",
    "ColumnMapping",
    "ColumnType",
    "FrameContract",
    "FrameKind",
    "MappingError",
    "ReadResult",
    "ValueRule",
    "align_id_types",
    "apply_mapping",
    "builtin_mappings",
    "csv_safe",
    "domain_problem",
    "email_problem",
    "export_frame",
    "file_format",
    "load_mapping",
    "neutralise_formulas",
    "normalise_domain",
    "normalise_email",
    "problems_frame",
    "read_frame",
    "write_frame",
    "write_problems_report",
]
