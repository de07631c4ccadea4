"""年齢クラス: the age on April 1 of the fiscal year, as nurseries count it."""

from datetime import date

import pytest

from handlers import childcare as cc


def month(year, m):
    return year * 12 + m - 1


@pytest.mark.parametrize("born, on, expected", [
    ((2024, 5), date(2027, 3, 31), 1),   # 1 on 1 April 2026: the 1歳児 class all year
    ((2024, 5), date(2027, 4, 1), 2),    # the next fiscal year
    ((2025, 3), date(2026, 4, 1), 1),    # born in March: older than the April-born of 2025
    ((2025, 4), date(2026, 4, 1), 0),    # born in April: taken as after 1 April (the younger class)
    ((2026, 6), date(2026, 11, 1), 0),   # born during the year: joins the 0歳児 class
    ((2026, 6), date(2027, 4, 1), 0),    # and is still 0 on 1 April 2027
    ((2026, 6), date(2028, 4, 1), 1),
    ((2020, 1), date(2026, 4, 1), 6),    # school age: no nursery class
])
def test_class_on_april_1(born, on, expected):
    assert cc.child_class(month(*born), on) == expected


def test_not_born_yet():
    assert cc.child_class(month(2027, 1), date(2026, 11, 1)) is None


def test_a_class_said_in_one_year_moves_up_the_next():
    cohort = cc.cohort_for(1, date(2026, 11, 1))
    assert cc.class_of(cohort, date(2027, 3, 31)) == 1
    assert cc.class_of(cohort, date(2027, 4, 1)) == 2


def test_haversine_against_a_known_distance():
    # Tokyo Station to Osaka Station is about 403 km in a straight line
    from bot.geo import distance_m

    assert distance_m(35.6812, 139.7671, 34.7025, 135.4959) == pytest.approx(403_000, rel=0.01)
