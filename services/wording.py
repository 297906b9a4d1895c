"""How the bot words a plan and a day, in the reader's language: the same words in the
messages it starts (a re-screening, a phase change) and in its replies (after a report, /me).
"""

from __future__ import annotations

import html
from datetime import date

from babel.dates import format_skeleton

from chat.i18n import Translator
from models.people import Resident
from models.plans import MonitoringPlan
from services.vocabulary import PHASE_TEXTS


def day_text(day: date, tr: Translator) -> str:
    """A day as the reader writes it: 7月1日, 7月1日 (zh_Hant), 1 Jul."""
    locale = {"zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_HK"}.get(tr.language, "en_GB")
    return str(format_skeleton("MMMd", day, locale=locale))


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
