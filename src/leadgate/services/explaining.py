"""Explain leads point by point, in words a rep or a RevOps engineer can check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from leadgate.engine.explain import describe
from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel
from leadgate.services.scoring import ScoreRequest, score_files


@dataclass(frozen=True)
class Explanation:
    lead_id: str
    headline: str
    lines: tuple[str, ...]


def explain_leads(
    *,
    model: Path,
    leads: Path,
    as_of: datetime,
    lead_ids: tuple[str, ...],
    accounts: Path | None = None,
    events: Path | None = None,
    predictor: Path | None = None,
) -> list[Explanation]:
    """Score only the given leads and describe every ledger row of each."""
    run = score_files(
        ScoreRequest(
            model=model,
            leads=leads,
            accounts=accounts,
            events=events,
            as_of=as_of,
            only_leads=lead_ids,
            predictor=predictor,
        )
    )
    assert run.result.ledger is not None
    return describe_leads(run.result.leads, run.result.ledger, run.model)


def describe_leads(
    scores: pl.DataFrame, ledger: pl.DataFrame, model: QualificationModel
) -> list[Explanation]:
    """Turn scores and ledger rows into explanations (one per scored lead)."""
    wanted = ledger.filter(pl.col(c.LEAD_ID).is_in(scores.get_column(c.LEAD_ID).implode()))
    described = describe(wanted.lazy(), model).collect()
    out = []
    for lead in scores.iter_rows(named=True):  # a handful of leads: readability over speed
        rows = described.filter(pl.col(c.LEAD_ID) == lead[c.LEAD_ID]).sort(
            [c.RULE_KIND, c.POINTS], descending=[False, True]
        )
        headline = (
            f"Lead {lead[c.LEAD_ID]}: grade {lead[c.GRADE]}, stage {lead[c.STAGE]}, "
            f"{lead[c.TEMPERATURE]} — fit {lead[c.FIT_SCORE]:g}, engagement "
            f"{lead[c.ENGAGEMENT_SCORE]:g}, product {lead[c.PRODUCT_SCORE]:g}"
        )
        lines = [_segment_line(lead)]
        if lead[c.EXCLUSION_REASON]:
            lines.append(f"Excluded: {lead[c.EXCLUSION_REASON]} (stage: disqualified)")
        lines += [_ledger_line(r) for r in rows.iter_rows(named=True)]
        if lead[c.MISSING_FIELDS]:
            lines.append(f"Needs before moving up: {lead[c.MISSING_FIELDS]}")
        for fw in model.frameworks:
            missing = lead[c.framework_column(fw.id, "missing")]
            passed = lead[c.framework_column(fw.id, "passed")]
            status = "passed" if passed else "not passed"
            lines.append(
                f"{fw.label}: {lead[c.framework_column(fw.id, 'met')]} of "
                f"{len(fw.criteria)} met, {status}"
                + (f"; ask about {missing.replace(',', ', ')}" if missing else "")
            )
            if missing and not passed:
                first = next(cr for cr in fw.criteria if cr.id == missing.split(",")[0])
                lines.append(f"  e.g. “{first.questions[0]}”")
        out.append(Explanation(str(lead[c.LEAD_ID]), headline, tuple(lines)))
    return out


def _segment_line(lead: dict[str, object]) -> str:
    persona = lead[c.PERSONA] or "no persona"
    role = f" ({lead[c.BUYING_ROLE]})" if lead[c.BUYING_ROLE] else ""
    return (
        f"Segment {lead[c.SEGMENT] or '—'}; {lead[c.SENIORITY]} in {lead[c.DEPARTMENT]}; "
        f"persona {persona}{role}; potential value {lead[c.POTENTIAL_VALUE]:,.0f}"
    )


def _ledger_line(row: dict[str, object]) -> str:
    points = float(row[c.POINTS])  # type: ignore[arg-type]
    text = f"{points:+8.2f}  {row[c.RULE_KIND]:<10} {row[c.DESCRIPTION]}"
    count = row[c.EVENT_COUNT]
    if count:
        raw = float(row[c.RAW_POINTS])  # type: ignore[arg-type]
        factor = float(row[c.DECAY_FACTOR])  # type: ignore[arg-type]
        text += f"  [{count} events, {raw:g} raw, decay ×{factor:.2f}"
        if abs(raw * factor - points) > 0.01:
            text += ", capped"
        text += "]"
    return text
