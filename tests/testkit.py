"""Test helpers: a small, fully hand-checked qualification model and frame builders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

EXAMPLE_MODEL = Path(__file__).parents[1] / "src" / "leadgate" / "examples" / "b2b_saas.yaml"
AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)

SMALL_MODEL = """
schema_version: 1
name: small
event_types: [page_view, form_submit, email_open, unsubscribe, product_login]
segments:
  - {id: ent, when: {field: account.employees, gte: 1000}}
  - {id: smb}
exclusions:
  - {id: competitor, reason: competitor, when: {field: email_domain, in: [rival.com]}}
personas:
  - id: buyer
    buying_role: decision_maker
    points: 10
    when: {field: seniority, in: [c_level, vp]}
  - id: champ
    buying_role: champion
    points: 5
    segments: [ent]
    when: {field: seniority, equals: director}
fit:
  rules:
    - {id: software, points: 20, when: {field: account.industry, equals: Software}}
    - {id: mid_size, points: 15, when: {field: account.employees, between: [500, 5000]}}
    - {id: free_email, points: -10, when: {field: is_free_email, equals: true}}
    - {id: exec_title, points: 3, when: {field: title, matches: "^(vp|chief)"}}
    - {id: no_phone, points: -2, when: {field: phone, is_missing: true}}
    - {id: not_gov, points: 1, when: {not: {field: account.industry, in: [Government]}}}
    - id: north_america
      points: 2
      when: {any: [{field: country, equals: US}, {field: country, equals: CA}]}
    - {id: sales_title, points: 1, when: {field: title, contains: sales}}
    - id: seats_band
      points: 4
      when: {all: [{field: seats, gt: 5}, {field: seats, lte: 100}]}
    - {id: not_germany, points: 1, when: {field: country, not_in: [DE]}}
    - {id: big_revenue, points: 2, when: {field: account.revenue, gte: 1000000}}
    - {id: small_revenue, points: -1, when: {field: account.revenue, lt: 100000}}
    - {id: not_us, points: 1, when: {field: country, not_equals: US}}
engagement:
  floor: -5
  cap: 60
  rules:
    - id: pricing
      event: page_view
      where: {field: url, contains: /pricing}
      points: 10
      decay: {half_life_days: 10}
      cap: 25
      max_per_day: 2
    - {id: demo, event: form_submit, points: 30, decay: {window_days: 7}}
    - {id: opens, event: email_open, points: 1, decay: {linear_days: 10}}
    - {id: unsubscribed, event: unsubscribe, points: -20, cap: 15}
product:
  rules:
    - {id: logins, event: product_login, points: 5, cap: 20}
frameworks:
  - {id: bant, use: BANT}
  - id: custom
    criteria:
      - {id: pain, field: pain_known}
      - {id: size, field: team_size, kind: scale, min: 10}
    pass: {at_least: 1, required: [pain]}
value:
  default: 1000
  by_segment: {ent: 50000}
  from_field: {field: seats, per_unit: 100, maximum: 5000}
grades:
  fit: {A: 40, B: 20, C: 10}
  engagement: {1: 30, 2: 15, 3: 5}
temperature:
  hot: {field: engagement_score, gte: 30}
  warm: {event: email_open, within_days: 3}
thresholds:
  default: {mql_fit: 30, mql_eng: 20}
  segments: {ent: {mql_fit: 20}}
stages:
  sql: {when: {framework: bant, passed: true}, required_fields: [phone]}
  pql: {when: {field: product_score, gte: 15}}
  mql:
    when:
      all:
        - {field: fit_score, gte: {threshold: mql_fit}}
        - {field: engagement_score, gte: {threshold: mql_eng}}
  iql: {when: {field: engagement_score, gt: 0}}
accounts:
  rollup: {score: engagement_score, method: top_k_mean, k: 2}
  buying_group:
    required_roles: [decision_maker, champion]
    engaged_when: {field: engagement_score, gte: 5}
  mqa:
    all:
      - {field: account_score, gte: 10}
      - {field: role_coverage, gte: 1}
"""


def ts(day: int, hour: int = 9) -> datetime:
    """A UTC timestamp in March 2026."""
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def make_leads(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Leads with every column the small model reads; unspecified fields are null."""
    schema = {
        "lead_id": pl.Int64,
        "account_id": pl.Int64,
        "email": pl.String,
        "title": pl.String,
        "phone": pl.String,
        "country": pl.String,
        "seats": pl.Int64,
        "budget": pl.Boolean,
        "authority": pl.Boolean,
        "need": pl.Int64,
        "timeline": pl.String,
        "pain_known": pl.Boolean,
        "team_size": pl.Int64,
    }
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def make_accounts(rows: list[dict[str, object]]) -> pl.DataFrame:
    schema = {
        "account_id": pl.Int64,
        "industry": pl.String,
        "employees": pl.Int64,
        "revenue": pl.Float64,
    }
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def make_events(rows: list[tuple[int, str, datetime, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": list(range(1, len(rows) + 1)),
            "lead_id": [r[0] for r in rows],
            "event_type": [r[1] for r in rows],
            "occurred_at": [r[2] for r in rows],
            "url": [r[3] for r in rows],
        },
        schema={
            "event_id": pl.Int64,
            "lead_id": pl.Int64,
            "event_type": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "url": pl.String,
        },
    )
