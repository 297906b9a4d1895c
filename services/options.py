"""What the conversations and the periodic jobs need to know of the settings (bot/settings.py
reads them from the environment; tests build their own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.policy import Policy, load_policy

DEFAULT_POLICY = "jiayuguan"


@dataclass(frozen=True)
class Options:
    """What handlers need to know of the settings."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    retention_days: int = 30
    policy: Policy = field(default_factory=lambda: load_policy(DEFAULT_POLICY))
    checkin_times: tuple[time, ...] = (time(8, 0), time(20, 0))
    reminder_after: timedelta = timedelta(hours=2)
    # The first check-in slot counted opens at least this long after arrival (or the report).
    checkin_grace: timedelta = timedelta(hours=1)
    # An unacknowledged alert is sent again after this, and goes up a level after that
    # (both counted from when it reached its current level); the daily report's time.
    alert_resend_after: timedelta = timedelta(hours=2)
    alert_escalate_after: timedelta = timedelta(hours=6)
    daily_report_at: time = time(20, 0)
    # The dashboard's address, for the sign-in links /web sends (None: not set up).
    web_url: str | None = None
    # The bot's @username (getMe at start), for t.me links; None: not known.
    bot_username: str | None = None
    # The staff roles whose register shows ID numbers in full (everyone else's: masked).
    full_id_roles: frozenset[str] = frozenset({"district"})

    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "retention_days": self.retention_days,
            FULL_ID_ROLES: self.full_id_roles,
            REPORT_AT: self.daily_report_at,
        }
        if self.web_url:
            facts["web_url"] = self.web_url
        return facts


# Keys of facts() that are settings, not words of a text.
FULL_ID_ROLES = "full_id_roles"
REPORT_AT = "daily_report_at"
