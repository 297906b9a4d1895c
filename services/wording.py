"""How the bot words a plan and a day, in the reader's language: the same words in the
messages it starts (a re-screening, a phase change) and in its replies (after a report, /me).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chat.forms import Option
from chat.i18n import N_, Translator
from models.people import Resident
from models.plans import MonitoringPlan
from rules import places
from services.vocabulary import (
    PHASE_NAMES,
    PHASE_TEXTS,
    REASON_TEXTS,
    RISK_NAMES,
    SLOT_TEXTS,
)

# A leading emoji (with its variation selector) and the space after it.
_EMOJI = re.compile(r"^[^\w\s(（]+\s*")


# The months as British English abbreviates them (CLDR's en_GB: "Sept").
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")


def day_text(day: date, tr: Translator) -> str:
    """A day as the reader writes it: 7月1日, 7月1日 (zh_Hant), 1 Jul. Written here rather
    than by Babel's CLDR data, which the bot would otherwise carry in memory; the words are
    CLDR's (tests/services/test_wording.py holds them equal to Babel's)."""
    if tr.chinese:
        return f"{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]}"


def place_name(code: str | None, text: str, tr: Translator) -> str:
    """A place as the reader names it (the gazetteer's name in their language), whatever
    language the person who reported it wrote in; what they typed if it is not known."""
    if code:
        try:
            return places.place(code).display(tr.language)
        except KeyError:
            pass
    return text


def moment_text(moment: datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A local date and time: 12月1日 08:00 / 1 Dec 08:00."""
    local = moment.astimezone(zone)
    return f"{day_text(local.date(), tr)} {local:%H:%M}"


def slot_text(start: datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A check-in slot by its day and time of day: 12月1日 早上打卡 / 1 Dec morning check-in."""
    local = start.astimezone(zone)
    text = next(t for hour, t in SLOT_TEXTS if local.hour < hour)
    return tr(text, day=day_text(local.date(), tr))


def plain(label: str) -> str:
    """A label without its leading emoji, for registers and lists: 🚄 火车 → 火车."""
    return _EMOJI.sub("", label, count=1) or label


def option_name(options: Sequence[Option], value: str | None, tr: Translator) -> str:
    """The plain word for a stored option code (no emoji); the code itself if unknown."""
    if not value:
        return ""
    return next((plain(tr(o.label)) for o in options if o.value == value), value)


def temperature_text(value: float | None) -> str:
    return f"{value:.1f} °C" if value is not None else ""


def plan_name(phases: Sequence[dict[str, Any]], tr: Translator, refer: bool = False) -> str:
    """A plan by what it is: 集中隔离14天 + 居家健康监测7天 / Centralised quarantine 14 days + …"""
    parts = []
    for phase in phases:
        days = (date.fromisoformat(phase["last"]) - date.fromisoformat(phase["first"])).days + 1
        name = tr(PHASE_NAMES.get(phase["kind"], phase["kind"]))
        parts.append(tr.ngettext("{name} {n} day", "{name} {n} days", days, name=name))
    if refer:
        parts.insert(0, tr("fever clinic first"))
    return " + ".join(parts)


def reason_text(reason: str, tr: Translator) -> str:
    """Why the policy chose a plan ("risk=high", "abroad=true,released_elsewhere=false"), in
    words: 来自或到过高风险地区."""
    parts = [
        tr(REASON_TEXTS[part]) if part in REASON_TEXTS else tr(N_("a rule of the local policy"))
        for part in (p.strip() for p in reason.split(","))
        if part
    ]
    return tr.clauses(dict.fromkeys(parts))


def risk_text(level: str | None, tr: Translator) -> str:
    return tr(RISK_NAMES[level]) if level in RISK_NAMES else ""


def listing_text(place: str, level: str | None, tr: Translator) -> str:
    """A listed place with its risk: 北京市朝阳区（中风险）."""
    risk = risk_text(level, tr)
    return f"{place}{tr.paren(risk)}" if risk else place


def masked_phone(phone: str | None) -> str:
    """A phone number with its middle hidden: +86138****5678."""
    if not phone:
        return ""
    if len(phone) < 9:
        return phone
    return phone[:-8] + "****" + phone[-4:]


def phone_link(phone: str | None) -> str:
    """The number in full, international form (+8613812345678): Telegram's apps make a number
    written so tappable to call. A tel: link is not an option (Telegram refuses a message
    with one), and the worker of the person's grid may see the number anyway (/person)."""
    if not phone:
        return ""
    digits = re.sub(r"[^\d+]", "", phone)
    return html.escape(digits if digits.startswith("+") else "+" + digits)


def phase_text(phase: dict[str, str], tr: Translator) -> str:
    """One phase of a plan with its dates, e.g. home health monitoring, 1 Jul to 7 Jul."""
    return tr(
        PHASE_TEXTS.get(phase["kind"], phase["kind"]),
        first=day_text(date.fromisoformat(phase["first"]), tr),
        last=day_text(date.fromisoformat(phase["last"]), tr),
    )


def describe_plan(plan: MonitoringPlan, tr: Translator) -> str:
    """The plan in plain words with dates, e.g. home health monitoring 1–7 July; tests on…"""
    lines: list[str] = []
    if plan.refer_to_clinic:
        lines.append(
            "⚠️ "
            + tr("Please go to a fever clinic now, wearing a mask. Your grid worker has been told.")
        )
    for phase in plan.phases:
        lines.append("• " + phase_text(phase, tr))
    if plan.test_days:
        days = tr.join(day_text(date.fromisoformat(d), tr) for d in plan.test_days)
        lines.append("• " + tr("Nucleic-acid tests on {days}.", days=days))
    if plan.negatives_needed == 1:
        # "1次…均为阴性" would read wrong: one test is said as one.
        lines.append("• " + tr("You are released once your test is negative."))
    elif plan.negatives_needed:
        lines.append(
            "• "
            + tr.ngettext(
                "You are released after {n} negative test.",
                "You are released after {n} negative tests.",
                plan.negatives_needed,
            )
        )
    if plan.needs_confirmation:
        lines.append(tr("Your grid worker will confirm this plan with you."))
    heading = tr("Your plan")
    return f"<b>{html.escape(heading)}</b>\n" + "\n".join(lines)


def whose(resident: Resident) -> str:
    """ "<b>Name</b>: " before a message about someone the reader answers for; nothing for
    a message about the reader themself."""
    if resident.user_id == resident.reporter_user_id:
        return ""
    return f"<b>{html.escape(resident.name or '')}</b>: "
