import numpy as np
import polars as pl

from leadgate.learn import suggest_points


def test_suggestions_recover_the_sign_and_order_of_planted_effects() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    x = rng.random((n, 4)) < 0.4
    planted = np.array([2.0, 0.8, 0.0, -1.2])
    logit = x @ planted - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    indicators = pl.DataFrame(x, schema=["demo_request", "pricing_page", "blog_read", "student"])
    current = {"demo_request": 5.0, "pricing_page": 20.0, "blog_read": 10.0, "student": 5.0}
    kinds = {
        "demo_request": "engagement",
        "pricing_page": "engagement",
        "blog_read": "engagement",
        "student": "fit",
    }
    result = suggest_points(indicators, y, current, kinds)
    points = {r.rule_id: r.suggested for r in result.rules}
    assert points["demo_request"] == 20  # strongest rule gets the model's largest |points|
    assert points["demo_request"] > points["pricing_page"] > abs(points["blog_read"])
    assert points["student"] < 0
    assert abs(points["blog_read"]) <= 2
    assert result.auc_suggested > result.auc_current
    snippet = result.yaml_snippet()
    assert "- id: demo_request\n      points: 20" in snippet
    assert result.table().columns == ["kind", "rule", "matched", "log_odds", "current", "suggested"]
