"""Settings of the remote backends: each remote job's deadline."""

from __future__ import annotations

import pytest

from home_editor.core.errors import ConfigError
from home_editor.processing.trellis_processor import CUTOUT_DEADLINE_SECONDS, MODEL_DEADLINE_SECONDS
from home_editor.settings import Settings


def test_remote_deadlines_default_to_the_contracts_timings_and_can_be_set() -> None:
    defaults = Settings.from_env({})
    assert (defaults.trellis_cutout_deadline_minutes, defaults.trellis_model_deadline_minutes) == (5.0, 15.0)
    assert (CUTOUT_DEADLINE_SECONDS, MODEL_DEADLINE_SECONDS) == (300.0, 900.0)  # the processor's own defaults agree
    chosen = Settings.from_env(
        {"HOME_EDITOR_TRELLIS_CUTOUT_DEADLINE_MINUTES": "2", "HOME_EDITOR_TRELLIS_MODEL_DEADLINE_MINUTES": "30"}
    )
    assert (chosen.trellis_cutout_deadline_minutes, chosen.trellis_model_deadline_minutes) == (2.0, 30.0)


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "soon"])
@pytest.mark.parametrize("name", ["TRELLIS_CUTOUT_DEADLINE_MINUTES", "TRELLIS_MODEL_DEADLINE_MINUTES"])
def test_a_deadline_that_is_no_deadline_is_a_config_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"HOME_EDITOR_{name}"):
        Settings.from_env({f"HOME_EDITOR_{name}": value})
