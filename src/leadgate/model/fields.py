"""Which fields a condition may read, depending on where in the model it appears."""

from __future__ import annotations

from enum import IntEnum

from leadgate.model import columns as c


class Phase(IntEnum):
    """The scoring phases, in order; a condition may read what earlier phases produced."""

    SEGMENT = 1
    EXCLUSION = 2
    PERSONA = 3
    FIT = 4
    STAGE = 5
    ACCOUNT = 6


#: Derived fields and the first phase in which they can be read.
DERIVED_FIELDS: dict[str, Phase] = {
    **dict.fromkeys(c.NORMALISED_FIELDS, Phase.SEGMENT),
    c.SEGMENT: Phase.EXCLUSION,
    c.PERSONA: Phase.FIT,
    c.BUYING_ROLE: Phase.FIT,
    c.IS_EXCLUDED: Phase.STAGE,
    c.EXCLUSION_REASON: Phase.STAGE,
    c.FIT_SCORE: Phase.STAGE,
    c.ENGAGEMENT_SCORE: Phase.STAGE,
    c.PRODUCT_SCORE: Phase.STAGE,
    c.POTENTIAL_VALUE: Phase.STAGE,
    c.FIT_GRADE: Phase.STAGE,
    c.ENGAGEMENT_GRADE: Phase.STAGE,
    c.GRADE: Phase.STAGE,
}

#: Fields of the account roll-up frame that the MQA condition may read.
ACCOUNT_ROLLUP_FIELDS: frozenset[str] = frozenset(
    {c.ACCOUNT_SCORE, c.CONTACT_COUNT, c.ENGAGED_CONTACTS, c.ROLE_COVERAGE}
)


def is_account_field(name: str) -> bool:
    return name.startswith(c.ACCOUNT_PREFIX)
