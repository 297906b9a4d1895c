"""The settings of alerts and the daily report: defaults, and a wrong one named."""

from __future__ import annotations

from datetime import time

import pytest

from bot.settings import SettingsError, load_settings


def test_the_defaults_are_2_hours_6_hours_and_20_00() -> None:
    settings = load_settings(_env_file=None)
    assert settings.alert_resend_after_minutes == 120
    assert settings.alert_escalate_after_minutes == 360
    assert settings.daily_report_time == time(20, 0)


def test_a_report_time_is_read_and_a_bad_one_named() -> None:
    assert load_settings(_env_file=None, daily_report_at="7:30").daily_report_at == "07:30"
    with pytest.raises(SettingsError, match="DAILY_REPORT_AT"):
        load_settings(_env_file=None, daily_report_at="evening")


def test_the_escalation_must_come_after_the_re_send() -> None:
    with pytest.raises(SettingsError, match="ALERT_ESCALATE_AFTER_MINUTES"):
        load_settings(
            _env_file=None, alert_resend_after_minutes=120, alert_escalate_after_minutes=60
        )
