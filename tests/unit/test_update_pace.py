"""A tab's page updates: the first change after a quiet spell at once, a burst as one update per gap, and a
longer gap for a larger library (each update sends every card)."""

from home_editor.core.update_pace import update_gap, wait_before_update


def test_a_change_after_a_quiet_spell_is_shown_at_once() -> None:
    assert wait_before_update(update_gap(10), cards=10) == 0.0
    assert wait_before_update(30.0, cards=1000) == 0.0


def test_a_change_right_after_an_update_waits_for_the_end_of_its_gap() -> None:
    assert wait_before_update(0.0, cards=10) == update_gap(10)
    assert abs(wait_before_update(0.01, cards=10) - (update_gap(10) - 0.01)) < 1e-9


def test_a_larger_library_gets_fewer_updates_in_a_burst() -> None:
    assert update_gap(0) == 0.02
    assert abs(update_gap(1000) - 0.12) < 1e-9
    assert wait_before_update(0.1, cards=10) == 0.0 < wait_before_update(0.1, cards=1000)
