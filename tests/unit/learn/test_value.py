import polars as pl
import pytest

from leadgate.learn import learn_deal_sizes
from leadgate.learn.value import SHRINK_WINS


def test_group_medians_shrink_towards_the_overall_median() -> None:
    wins = pl.DataFrame(
        {
            "amount": [100.0, 200.0, 300.0, 1000.0, 5000.0, None],
            "segment": ["smb", "smb", "smb", "ent", "ent", "ent"],
            "fit_grade": ["B", "B", "B", "A", "A", "A"],
        }
    )
    sizes = learn_deal_sizes(wins, amount="amount", segment="segment", grade="fit_grade")
    assert sizes is not None
    assert sizes.overall == 300.0
    assert sizes.wins == 5
    assert sizes.groups["smb|B"] == pytest.approx((200 * 3 + 300 * SHRINK_WINS) / (3 + SHRINK_WINS))
    assert sizes.groups["ent|A"] == pytest.approx(
        (3000 * 2 + 300 * SHRINK_WINS) / (2 + SHRINK_WINS)
    )
    leads = pl.DataFrame({"segment": ["smb", "mid", None], "fit_grade": ["B", "A", "C"]})
    expected = leads.select(sizes.expr("segment", "fit_grade")).to_series().to_list()
    assert expected == [pytest.approx(sizes.groups["smb|B"]), 300.0, 300.0]


def test_no_amounts_means_no_deal_sizes() -> None:
    wins = pl.DataFrame({"amount": [None, 0.0]}, schema={"amount": pl.Float64})
    assert learn_deal_sizes(wins, amount="amount", segment=None, grade=None) is None
