"""Built-in readiness frameworks and the SPIN question bank.

Each criterion reads a lead field of the same name unless the model maps it elsewhere
(``fields: {budget: budget_confirmed}``). Questions are what a rep should ask when the
criterion is still unknown; SPIN questions are added to every criterion's bank.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CriterionTemplate:
    id: str
    label: str
    kind: str
    questions: tuple[str, ...]
    min: float | None = None


@dataclass(frozen=True)
class FrameworkTemplate:
    id: str
    label: str
    criteria: tuple[CriterionTemplate, ...]
    at_least: int
    required: tuple[str, ...] = ()


def _c(cid: str, label: str, *questions: str, kind: str = "boolean") -> CriterionTemplate:
    minimum = 3.0 if kind == "scale" else None
    return CriterionTemplate(cid, label, kind, tuple(questions), minimum)


_BUDGET = _c(
    "budget",
    "Budget",
    "Is there budget set aside for solving this, and who controls it?",
    "What does it cost you today to live with the problem?",
)
_AUTHORITY = _c(
    "authority",
    "Authority",
    "Who besides you will be involved in choosing a solution?",
    "How have purchases like this been approved in the past?",
)
_NEED = _c(
    "need",
    "Need",
    "What made you look for a solution now?",
    "How are you handling this today, and what is not working?",
    kind="scale",
)
_TIMELINE = _c(
    "timeline",
    "Timeline",
    "By when do you need this in place, and what is driving that date?",
    "What happens if nothing changes this quarter?",
    kind="non_empty",
)
_CHAMPION = _c(
    "champion",
    "Champion",
    "Who inside would push for this when you are not in the room?",
)
_CHALLENGES = _c(
    "challenges",
    "Challenges",
    "What is the biggest obstacle to hitting your goals this year?",
    "What have you already tried to fix it?",
)

TEMPLATES: dict[str, FrameworkTemplate] = {
    "bant": FrameworkTemplate("bant", "BANT", (_BUDGET, _AUTHORITY, _NEED, _TIMELINE), at_least=3),
    "anum": FrameworkTemplate(
        "anum",
        "ANUM",
        (
            _AUTHORITY,
            _NEED,
            _c("urgency", "Urgency", "What happens if you do nothing for six months?"),
            _c("money", "Money", "Is funding available this fiscal year?"),
        ),
        at_least=3,
        required=("authority",),
    ),
    "gpct": FrameworkTemplate(
        "gpct",
        "GPCT",
        (
            _c("goals", "Goals", "What are the numbers you are measured on this year?"),
            _c("plans", "Plans", "How do you plan to reach those goals?"),
            _CHALLENGES,
            _TIMELINE,
        ),
        at_least=3,
    ),
    "champ": FrameworkTemplate(
        "champ",
        "CHAMP",
        (
            _CHALLENGES,
            _AUTHORITY,
            _c("money", "Money", "Is funding available this fiscal year?"),
            _c(
                "prioritisation",
                "Prioritisation",
                "Where does this rank among the projects competing for the same budget?",
            ),
        ),
        at_least=3,
        required=("challenges",),
    ),
    "meddic": FrameworkTemplate(
        "meddic",
        "MEDDIC",
        (
            _c("metrics", "Metrics", "What measurable result would make this a success?"),
            _c(
                "economic_buyer",
                "Economic buyer",
                "Who signs off on the spend, and have we met them?",
            ),
            _c(
                "decision_criteria",
                "Decision criteria",
                "What criteria will you use to compare solutions?",
            ),
            _c(
                "decision_process",
                "Decision process",
                "What are the steps from here to a signed agreement?",
            ),
            _c(
                "identified_pain",
                "Identified pain",
                "What does this problem cost you, in money or time, each month?",
            ),
            _CHAMPION,
        ),
        at_least=5,
        required=("economic_buyer", "identified_pain"),
    ),
    "faint": FrameworkTemplate(
        "faint",
        "FAINT",
        (
            _c("funds", "Funds", "Could the company fund this if the case is strong enough?"),
            _AUTHORITY,
            _c("interest", "Interest", "How interested are you in changing the way you work?"),
            _NEED,
            _c("timing", "Timing", "When would a change make sense for you?"),
        ),
        at_least=4,
    ),
}

SPIN_QUESTIONS: dict[str, tuple[str, ...]] = {
    "situation": (
        "How is your team set up to handle this today?",
        "Which tools do you use for it now?",
    ),
    "problem": (
        "Where does the current process break down?",
        "How satisfied are you with the results you get today?",
    ),
    "implication": (
        "What does that cost the team each quarter?",
        "How does it affect the targets you are measured on?",
    ),
    "need_payoff": (
        "If that were solved, what would it be worth to you?",
        "Who else would benefit if this worked better?",
    ),
}
