"""Job titles with their (hidden) seniority and department class and how common they are.

The classes use the vocabulary of the example model (``c_level``, ``vp``, ``director``,
``manager``, ``senior_ic``, ``ic``, ``entry``; ``sales``, ``marketing``,
``revenue_operations`` ...), so the table doubles as ground truth for title normalisation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from leadgate.synth._common import FloatArray, IntArray, choose


class Title(NamedTuple):
    """A job title, its seniority and department class and its base frequency."""

    title: str
    seniority: str
    department: str
    weight: float


# title | seniority | department | weight (relative frequency among inbound B2B leads)
_TABLE = """
Founder & CEO|c_level|executive|1.5
CEO|c_level|executive|1.2
Co-Founder|c_level|executive|0.8
Owner|c_level|executive|0.8
President|c_level|executive|0.4
Managing Director|c_level|executive|0.6
Chief Operating Officer|c_level|operations|0.3
Chief Revenue Officer|c_level|sales|0.5
Chief Marketing Officer|c_level|marketing|0.6
CMO|c_level|marketing|0.15
Chief Technology Officer|c_level|engineering|0.5
CTO|c_level|engineering|0.2
Chief Information Officer|c_level|it|0.3
Chief Financial Officer|c_level|finance|0.3
Chief Data Officer|c_level|data|0.15
Chief Product Officer|c_level|product|0.15
Chief Customer Officer|c_level|customer_success|0.1
ceo|c_level|executive|0.1
VP of Sales|vp|sales|1.2
VP Sales|vp|sales|0.6
Vice President of Sales|vp|sales|0.4
SVP, Global Sales|vp|sales|0.15
VP of Business Development|vp|sales|0.4
VP of Partnerships|vp|sales|0.15
VP of Marketing|vp|marketing|1.0
VP, Marketing|vp|marketing|0.4
VP of Demand Generation|vp|marketing|0.3
VP of Growth|vp|marketing|0.3
VP of Revenue Operations|vp|revenue_operations|0.3
VP of Sales Operations|vp|revenue_operations|0.2
VP of Customer Success|vp|customer_success|0.3
VP of Engineering|vp|engineering|0.4
VP of Product|vp|product|0.3
VP of Finance|vp|finance|0.15
VP of Operations|vp|operations|0.2
VP of IT|vp|it|0.15
VP of Data & Analytics|vp|data|0.1
Partner|vp|executive|0.3
General Manager|director|executive|0.3
Director of Sales|director|sales|0.9
Sales Director|director|sales|0.7
Regional Sales Director|director|sales|0.3
Dir. of Sales|director|sales|0.1
Director of Business Development|director|sales|0.4
Director of Partnerships|director|sales|0.2
Director, Revenue Operations|director|revenue_operations|0.5
Director of Sales Operations|director|revenue_operations|0.4
Director of Marketing|director|marketing|0.8
Marketing Director|director|marketing|0.5
Director, Demand Generation|director|marketing|0.5
Director of Growth Marketing|director|marketing|0.3
Director of Product Marketing|director|marketing|0.3
Director of Marketing Operations|director|marketing|0.3
Director of Customer Success|director|customer_success|0.3
Director of Engineering|director|engineering|0.3
Director of IT|director|it|0.3
Director of Data & Analytics|director|data|0.2
Director of Business Intelligence|director|data|0.15
Director of Product|director|product|0.2
Director of Finance|director|finance|0.15
Director of Operations|director|operations|0.3
Head of Sales|director|sales|0.7
Head of Business Development|director|sales|0.3
Head of Sales Development|director|sales|0.2
Head of Marketing|director|marketing|0.8
Head of Growth|director|marketing|0.4
Head of Demand Generation|director|marketing|0.3
Head of Revenue Operations|director|revenue_operations|0.4
Head of Customer Success|director|customer_success|0.2
Head of Data|director|data|0.2
Head of Engineering|director|engineering|0.2
Head of IT|director|it|0.15
Head of Product|director|product|0.2
Head of People|director|hr|0.1
Dean|director|education|0.03
Sales Manager|manager|sales|1.0
Inside Sales Manager|manager|sales|0.3
Sales Development Manager|manager|sales|0.3
Business Development Manager|manager|sales|0.7
Partnerships Manager|manager|sales|0.3
Account Manager|manager|sales|0.8
Team Lead, Sales|manager|sales|0.2
Revenue Operations Manager|manager|revenue_operations|0.5
Sales Operations Manager|manager|revenue_operations|0.5
CRM Manager|manager|revenue_operations|0.3
Marketing Manager|manager|marketing|1.5
Mktg Manager|manager|marketing|0.1
Marketing Operations Manager|manager|marketing|0.7
Demand Generation Manager|manager|marketing|0.6
Digital Marketing Manager|manager|marketing|0.7
Product Marketing Manager|manager|marketing|0.5
Content Marketing Manager|manager|marketing|0.4
Growth Marketing Manager|manager|marketing|0.4
Field Marketing Manager|manager|marketing|0.2
Email Marketing Manager|manager|marketing|0.3
Social Media Manager|manager|marketing|0.3
Customer Success Manager|manager|customer_success|0.6
Engineering Manager|manager|engineering|0.3
IT Manager|manager|it|0.6
Analytics Manager|manager|data|0.3
BI Manager|manager|data|0.15
Product Manager|manager|product|0.6
Operations Manager|manager|operations|0.5
Project Manager|manager|operations|0.4
Office Manager|manager|operations|0.2
Finance Manager|manager|finance|0.2
HR Manager|manager|hr|0.15
Manager|manager|other|0.15
Senior Account Executive|senior_ic|sales|0.5
Sr. Account Executive|senior_ic|sales|0.2
Enterprise Account Executive|senior_ic|sales|0.4
Sales Engineer|senior_ic|sales|0.2
Senior Revenue Operations Analyst|senior_ic|revenue_operations|0.2
Salesforce Administrator|senior_ic|revenue_operations|0.3
Senior Marketing Specialist|senior_ic|marketing|0.2
Technical Account Manager|senior_ic|customer_success|0.15
Senior Software Engineer|senior_ic|engineering|0.5
Lead Developer|senior_ic|engineering|0.2
Principal Engineer|senior_ic|engineering|0.1
Solutions Architect|senior_ic|engineering|0.2
Senior Data Analyst|senior_ic|data|0.3
Senior Data Engineer|senior_ic|data|0.2
Data Scientist|senior_ic|data|0.3
Senior Product Manager|senior_ic|product|0.3
Consultant|senior_ic|other|0.6
Senior Consultant|senior_ic|other|0.3
Legal Counsel|senior_ic|legal|0.05
Professor|senior_ic|education|0.15
Lecturer|senior_ic|education|0.1
Account Executive|individual_contributor|sales|1.2
Sales Representative|individual_contributor|sales|0.8
Inside Sales Representative|individual_contributor|sales|0.4
Business Development Representative|individual_contributor|sales|0.7
Sales Development Representative|individual_contributor|sales|0.8
SDR|individual_contributor|sales|0.4
BDR|individual_contributor|sales|0.3
Sales Operations Analyst|individual_contributor|revenue_operations|0.3
Revenue Operations Analyst|individual_contributor|revenue_operations|0.3
Marketing Specialist|individual_contributor|marketing|0.6
Marketing Coordinator|individual_contributor|marketing|0.5
Digital Marketing Specialist|individual_contributor|marketing|0.4
Marketing Analyst|individual_contributor|marketing|0.3
SEO Specialist|individual_contributor|marketing|0.3
Content Writer|individual_contributor|marketing|0.2
Customer Success Associate|individual_contributor|customer_success|0.2
Customer Support Specialist|individual_contributor|customer_success|0.3
Software Engineer|individual_contributor|engineering|0.8
Software Developer|individual_contributor|engineering|0.4
Web Developer|individual_contributor|engineering|0.3
DevOps Engineer|individual_contributor|engineering|0.2
IT Specialist|individual_contributor|it|0.3
Systems Administrator|individual_contributor|it|0.2
Help Desk Technician|individual_contributor|it|0.1
Data Analyst|individual_contributor|data|0.6
Business Analyst|individual_contributor|data|0.5
Data Engineer|individual_contributor|data|0.3
UX Designer|individual_contributor|product|0.2
Financial Analyst|individual_contributor|finance|0.2
Accountant|individual_contributor|finance|0.2
Operations Analyst|individual_contributor|operations|0.2
Recruiter|individual_contributor|hr|0.2
Executive Assistant|individual_contributor|other|0.3
Office Administrator|individual_contributor|other|0.15
Paralegal|individual_contributor|legal|0.05
Freelancer|individual_contributor|other|0.3
Teacher|individual_contributor|education|0.1
Researcher|individual_contributor|education|0.1
Other|individual_contributor|other|0.15
N/A|individual_contributor|other|0.08
Student|entry|education|0.5
Graduate Student|entry|education|0.15
MBA Student|entry|education|0.1
PhD Candidate|entry|education|0.1
Research Assistant|entry|education|0.1
Teaching Assistant|entry|education|0.05
Intern|entry|other|0.3
Marketing Intern|entry|marketing|0.2
Sales Intern|entry|sales|0.1
"""


def _parse(line: str) -> Title:
    title, seniority, department, weight = line.split("|")
    return Title(title, seniority, department, float(weight))


TITLE_TABLE: tuple[Title, ...] = tuple(_parse(line) for line in _TABLE.strip().splitlines())
TITLES: tuple[str, ...] = tuple(t.title for t in TITLE_TABLE)
SENIORITIES: tuple[str, ...] = (
    "c_level",
    "vp",
    "director",
    "manager",
    "senior_ic",
    "individual_contributor",
    "entry",
)
DEPARTMENTS: tuple[str, ...] = tuple(dict.fromkeys(t.department for t in TITLE_TABLE))
TITLE_SENIORITY: IntArray = np.array([SENIORITIES.index(t.seniority) for t in TITLE_TABLE])
TITLE_DEPARTMENT: IntArray = np.array([DEPARTMENTS.index(t.department) for t in TITLE_TABLE])

# Where a lead works changes which titles sign up: founders at start-ups, directors at
# enterprises, students at universities and behind free e-mail addresses.
CONTEXTS: tuple[str, ...] = ("small", "mid", "large", "university", "free_mail")
_SENIORITY_BY_CONTEXT = np.array(
    [  # small  mid  large  university  free_mail
        [2.2, 1.0, 0.35, 0.3, 0.9],  # c_level
        [0.7, 1.0, 1.0, 0.2, 0.4],  # vp
        [0.6, 1.0, 1.3, 0.3, 0.4],  # director
        [0.8, 1.0, 1.2, 0.4, 0.6],  # manager
        [0.9, 1.0, 1.1, 0.5, 0.9],  # senior_ic
        [1.0, 1.0, 1.0, 0.4, 1.1],  # ic
        [0.4, 0.5, 0.5, 30.0, 6.0],  # entry
    ]
)
_DEPARTMENT_BOOST: dict[tuple[str, str], float] = {
    ("university", "education"): 12.0,
    ("university", "it"): 2.0,
    ("free_mail", "other"): 2.5,
    ("free_mail", "executive"): 1.5,
    ("small", "executive"): 1.5,
}


def title_weights(context: str) -> FloatArray:
    """Relative frequency of every title in ``TITLE_TABLE`` for one company context."""
    col = CONTEXTS.index(context)
    base = np.array([t.weight for t in TITLE_TABLE])
    weights: FloatArray = base * _SENIORITY_BY_CONTEXT[TITLE_SENIORITY, col]
    for (ctx, dept), boost in _DEPARTMENT_BOOST.items():
        if ctx == context:
            weights[np.equal(TITLE_DEPARTMENT, DEPARTMENTS.index(dept))] *= boost
    return weights


def pick_titles(rng: np.random.Generator, context: IntArray) -> IntArray:
    """Index into ``TITLE_TABLE`` for each lead, given its context code (see ``CONTEXTS``)."""
    out = np.zeros(len(context), dtype=np.int64)
    for code, name in enumerate(CONTEXTS):
        where = np.flatnonzero(context == code)
        out[where] = choose(rng, title_weights(name), len(where))
    return out
