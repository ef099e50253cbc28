"""A tab's page updates: the first change after a quiet spell at once, a burst as one update."""

from home_editor.core.update_pace import MIN_GAP_SECONDS, wait_before_update


def test_a_change_after_a_quiet_spell_is_shown_at_once() -> None:
    assert wait_before_update(MIN_GAP_SECONDS) == 0.0
    assert wait_before_update(30.0) == 0.0


def test_a_change_right_after_an_update_waits_for_the_end_of_its_gap() -> None:
    assert wait_before_update(0.0) == MIN_GAP_SECONDS
    assert abs(wait_before_update(0.1) - (MIN_GAP_SECONDS - 0.1)) < 1e-9
