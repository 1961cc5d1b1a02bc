"""The replay window of signed provider webhooks (SIP bridge and Telnyx timestamps, Vonage's iat):
only a finite number of epoch seconds in range, within 300 s, passes. ``nan`` compares false
with everything, so ``abs(now - nan) > 300`` is False and a plain float() check let it through."""
import math

import pytest

from outbound.provider_callbacks import REPLAY_WINDOW_S, InvalidSignature, check_timestamp

NOW = 1_800_000_000.0


@pytest.mark.parametrize("stamp", [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "1e9", math.nan, math.inf, -math.inf,
    True, False, None, "", " ", "1800000000 ", " 1800000000", "+1800000000", "-1800000000", "1_800_000_000",
    "1800000000.5", "0x6B49D200", "\u0661\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",  # Arabic-Indic digits
    "9" * 5000, 10**400, -1, 0, [1800000000], {"t": 1800000000},
], ids=lambda value: repr(value)[:24])
def test_anything_but_epoch_seconds_is_refused(stamp):
    with pytest.raises(InvalidSignature):
        check_timestamp(stamp, NOW)


@pytest.mark.parametrize("stamp", ["1800000000", 1800000000, 1800000000.25, str(int(NOW) - REPLAY_WINDOW_S),
                                   int(NOW) + REPLAY_WINDOW_S])
def test_epoch_seconds_inside_the_window_pass(stamp):
    check_timestamp(stamp, NOW)


@pytest.mark.parametrize("stamp", [str(int(NOW) - REPLAY_WINDOW_S - 1), int(NOW) + REPLAY_WINDOW_S + 1, "1"])
def test_epoch_seconds_outside_the_window_are_replays(stamp):
    with pytest.raises(InvalidSignature, match="replay window"):
        check_timestamp(stamp, NOW)
