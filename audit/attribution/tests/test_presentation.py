"""The seed's sentences: one side's headline role, and the same role seen on the other side."""
from audit.attribution.presentation import echo, headline
from audit.attribution.selectors import ROLE, Comparison, Side


def _side(won, lost, **roles):
    comparisons = [
        Comparison(dimension=ROLE, code=code, won_with=a, lost_with=b, won_without=won - a, lost_without=lost - b,
                   p=0.01, q=0.02, odds_ratio=None, label=code.upper())
        for code, (a, b) in roles.items()
    ]
    return Side(region_id=None, won=won, lost=lost, comparisons=comparisons)


def test_the_headline_is_the_role_that_separates_wins_most_and_is_big_enough():
    east = _side(40, 60, cio=(32, 16), finance=(20, 25), engineer=(2, 1))
    top = headline(east)
    assert (top.code, top.label) == ("cio", "CIO")
    assert top.lost_lacking == 44 / 60 and top.won_having == 32 / 40


def test_no_headline_when_no_role_goes_with_winning():
    assert headline(_side(40, 60, cio=(10, 30))) is None
    assert headline(_side(0, 60, cio=(0, 30))) is None


def test_the_other_sides_headline_role_is_echoed_with_its_shares():
    east = _side(40, 60, cio=(32, 16))
    south = _side(50, 50, cio=(47, 45))
    seen = echo(south, headline(east))
    assert (seen.label, seen.share, seen.won_having, seen.lost_having) == ("CIO", 0.92, 0.94, 0.9)
    assert echo(south, None) is None
