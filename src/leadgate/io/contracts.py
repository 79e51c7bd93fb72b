"""What leadgate expects of each input frame: required columns and the type of known columns.

Columns a contract does not name (custom lead fields, event properties) are kept as they come,
with the type the reader infers for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from leadgate.model import columns as c

ColumnType = Literal[
    "id", "string", "int", "float", "bool", "datetime", "category", "email", "domain"
]
"""The logical type of a known column; see ``leadgate.io.readers`` for accepted spellings."""

# Lead columns CRM exports carry; the engine reads them like any custom lead field.
COMPANY = "company"
COMPANY_DOMAIN = "company_domain"
OWNER = "owner"
CRM_STATUS = "crm_status"
LIFECYCLE_STAGE = "lifecycle_stage"

COLUMN_TYPES: tuple[ColumnType, ...] = get_args(ColumnType)


@dataclass(frozen=True)
class FrameContract:
    """The shape a lead, account, event or outcome file must have.

    Attributes:
        name: Human name of the frame, used in messages ("leads", "events", ...).
        required: Columns that must exist and may not hold empty values.
        types: Logical type of every column leadgate knows; other columns are kept as is.
        unique: Column whose non-empty values must be unique (first occurrence wins), if any.
    """

    name: str
    required: tuple[str, ...]
    types: Mapping[str, ColumnType]
    unique: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", MappingProxyType(dict(self.types)))
        unknown = [col for col in self.required if col not in self.types]
        if unknown:
            raise ValueError(f"required columns without a type in {self.name}: {unknown}")
        if self.unique is not None and self.unique not in self.types:
            raise ValueError(f"unique column {self.unique!r} has no type in {self.name}")
        bad = {col: t for col, t in self.types.items() if t not in COLUMN_TYPES}
        if bad:
            raise ValueError(f"unknown column types in {self.name}: {bad}")


LEADS = FrameContract(
    name="leads",
    required=c.LEAD_REQUIRED,
    types={
        c.LEAD_ID: "id",
        c.ACCOUNT_ID: "id",
        c.EMAIL: "email",
        c.FIRST_NAME: "string",
        c.LAST_NAME: "string",
        c.TITLE: "string",
        c.PHONE: "string",
        c.COUNTRY: "string",
        c.SOURCE: "string",
        c.CREATED_AT: "datetime",
        COMPANY: "string",
        COMPANY_DOMAIN: "domain",
        c.EMPLOYEES: "int",
        c.ANNUAL_REVENUE: "float",
        c.INDUSTRY: "string",
        OWNER: "string",
        CRM_STATUS: "string",
        LIFECYCLE_STAGE: "string",
        "seats": "int",
        "budget": "bool",
        "authority": "bool",
        "need": "int",
        "timeline": "string",
        "metrics": "bool",
        "economic_buyer": "bool",
        "decision_criteria": "bool",
        "decision_process": "bool",
        "identified_pain": "bool",
        "champion": "bool",
    },
    unique=c.LEAD_ID,
)

ACCOUNTS = FrameContract(
    name="accounts",
    required=c.ACCOUNT_REQUIRED,
    types={
        c.ACCOUNT_ID: "id",
        c.ACCOUNT_NAME: "string",
        c.DOMAIN: "domain",
        c.INDUSTRY: "string",
        c.COUNTRY: "string",
        "tech_stack": "string",
        c.EMPLOYEES: "int",
        c.ANNUAL_REVENUE: "float",
        OWNER: "string",
        c.CREATED_AT: "datetime",
    },
    unique=c.ACCOUNT_ID,
)

EVENTS = FrameContract(
    name="events",
    required=c.EVENT_REQUIRED,
    types={
        c.EVENT_ID: "id",
        c.LEAD_ID: "id",
        c.EVENT_TYPE: "category",
        c.OCCURRED_AT: "datetime",
        "url": "string",
        "form": "string",
        "asset": "string",
        "feature": "string",
    },
    unique=c.EVENT_ID,
)

OUTCOMES = FrameContract(
    name="outcomes",
    required=(c.LEAD_ID,),
    types={
        c.LEAD_ID: "id",
        c.OPPORTUNITY_CREATED_AT: "datetime",
        c.AMOUNT: "float",
        c.WON: "bool",
        c.CLOSED_AT: "datetime",
    },
)

STAGE_HISTORY = FrameContract(
    name="stage history",
    required=(c.LEAD_ID, "to_stage"),
    types={
        c.LEAD_ID: "id",
        "from_stage": "string",
        "to_stage": "string",
        "action": "string",
        "reason": "string",
        c.OCCURRED_AT: "datetime",
    },
)
"""Stage history as a file: one row per stage change (the store's ``stage_history`` shape)."""

CONTRACTS: Mapping[str, FrameContract] = MappingProxyType(
    {contract.name: contract for contract in (LEADS, ACCOUNTS, EVENTS, OUTCOMES, STAGE_HISTORY)}
)
"""Every built-in contract by name."""
