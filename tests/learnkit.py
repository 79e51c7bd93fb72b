"""Small synthetic training sets with planted effects, for the learn tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from leadgate.learn import DECISION_AT, LABEL

START = datetime(2026, 1, 1, tzinfo=UTC)
#: Planted log-odds per channel: webinar strongly positive, ads negative.
CHANNEL_EFFECT = {"webinar": 1.5, "search": 0.0, "ads": -1.5}


def planted(n: int = 800, seed: int = 0) -> pl.DataFrame:
    """``lead_id``, ``decision_at``, a numeric and a categorical feature, noise, and the label.

    log-odds = 1.2 * visits_z + channel effect; ``noise`` carries nothing.
    """
    rng = np.random.default_rng(seed)
    visits = rng.normal(0, 1, n)
    channels = rng.choice(list(CHANNEL_EFFECT), n)
    logit = 1.2 * visits + np.array([CHANNEL_EFFECT[c] for c in channels]) - 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pl.DataFrame(
        {
            "lead_id": np.arange(1, n + 1),
            DECISION_AT: [START + timedelta(hours=int(i)) for i in range(n)],
            "visits": visits * 3 + 10,
            "channel": channels,
            "noise": rng.normal(0, 1, n),
            LABEL: y,
        }
    ).with_columns(pl.col(DECISION_AT).dt.cast_time_unit("us"))
