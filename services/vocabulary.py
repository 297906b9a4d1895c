"""The codes the bot stores and the words it shows for them, in one place.

What is stored is a code (``train``, ``home_monitoring``, ``missed_checkin``); what a reader
sees is the label, a msgid translated in their language when shown. The report asks with
these tables, and the registers, alerts, daily reports and exports name things with them, so
one thing has one word everywhere.
"""

from __future__ import annotations

from chat.forms import Option
from chat.i18n import N_

# ----- what a resident reports -----

TRANSPORTS = (
    Option("train", N_("🚄 Train")),
    Option("flight", N_("✈️ Flight")),
    Option("coach", N_("🚌 Coach")),
    Option("car", N_("🚗 Own car")),
    Option("ship", N_("🚢 Ship")),
    Option("other", N_("Other")),
)
RELATIONS = (
    Option("spouse", N_("Spouse")),
    Option("child", N_("Child")),
    Option("parent", N_("Parent")),
    Option("relative", N_("Other family")),
    Option("friend", N_("Friend")),
    Option("colleague", N_("Colleague")),
)
# A person's relation to the household's reporter, as workers read it.
RELATION_NAMES = {"self": N_("the reporter"), **{o.value: o.label for o in RELATIONS}}
SYMPTOMS = (
    Option("fever", N_("Fever")),
    Option("cough", N_("Cough")),
    Option("sore_throat", N_("Sore throat")),
    Option("fatigue", N_("Fatigue")),
    Option("taste_smell", N_("Loss of taste or smell")),
    Option("diarrhoea", N_("Diarrhoea")),
    Option("short_breath", N_("Shortness of breath")),
    Option("none", N_("None of these")),
)
HEALTH_CODES = (
    Option("green", N_("🟢 Green")),
    Option("yellow", N_("🟡 Yellow")),
    Option("red", N_("🔴 Red")),
    Option("none", N_("I have none")),
)
# The latest test before arrival, as asked in the report.
TEST_RESULTS = (
    Option("negative", N_("Negative")),
    Option("positive", N_("Positive")),
    Option("pending", N_("Waiting for the result")),
    Option("none", N_("No test in the last 14 days")),
)
# A test during the plan, as asked on a test day and shown in the registers.
TEST_ANSWERS = {
    "negative": N_("Negative"),
    "positive": N_("Positive"),
    "pending": N_("Not yet"),
}
ARRIVAL_STATES = {"expected": N_("expected"), "arrived": N_("arrived")}
HELP_KINDS = (
    Option("supplies", N_("🛒 Daily supplies")),
    Option("medical", N_("🩺 Medical help")),
    Option("talk", N_("💬 Someone to talk to")),
    Option("other", N_("Other")),
)

# ----- plans -----

PHASE_NAMES = {
    "centralised": N_("Centralised quarantine"),
    "home_isolation": N_("Home isolation"),
    "home_monitoring": N_("Home health monitoring"),
    "self_monitoring": N_("Self-monitoring"),
}
# A phase with its dates, as the resident and the worker read it.
PHASE_TEXTS = {
    "centralised": N_("centralised quarantine at a designated site, {first} to {last}"),
    "home_isolation": N_("home isolation (stay in, in a room of your own), {first} to {last}"),
    "home_monitoring": N_(
        "home health monitoring (stay near home, report every day), {first} to {last}"
    ),
    "self_monitoring": N_("watch your own health and protect yourself, {first} to {last}"),
}
PLAN_STATES = {
    "active": N_("active"),
    "held": N_("held open: the negative tests it needs are missing"),
    "released": N_("released"),
}

# The risk levels of listed areas, as a worker reads them.
RISK_NAMES = {
    "high": N_("high risk"),
    "medium": N_("medium risk"),
    "low": N_("low risk"),
}
# Why a plan was chosen: each condition of the policy's rule as the worker reads it, by the
# policy file's key and value (rules/policy.py writes a decision's reason as "risk=high").
REASON_TEXTS = {
    "risk=high": N_("a high-risk area in their origin or travel history"),
    "risk=medium": N_("a medium-risk area in their origin or travel history"),
    "risk=low": N_("a low-risk area in their origin or travel history"),
    "risk=none": N_("no listed risk area in their origin or travel history"),
    "abroad=true": N_("arriving from abroad"),
    "abroad=false": N_("not arriving from abroad"),
    "close_contact=true": N_("a close contact"),
    "close_contact=false": N_("not a close contact"),
    "contact_of_contact=true": N_("a contact of a close contact"),
    "contact_of_contact=false": N_("not a contact of a close contact"),
    "released_elsewhere=true": N_("quarantine already completed elsewhere"),
    "released_elsewhere=false": N_("no quarantine completed elsewhere"),
    "health_code=green": N_("green health code"),
    "health_code=yellow": N_("yellow health code"),
    "health_code=red": N_("red health code"),
    "health_code=none": N_("no health code"),
    "symptoms=true": N_("fever or symptoms at arrival"),
    "symptoms=false": N_("no fever or symptoms at arrival"),
    "can_stay_home=true": N_("can stay at home"),
    "can_stay_home=false": N_("cannot stay at home"),
    "otherwise": N_("none of the stricter rules applies"),
}
# A check-in slot by the local hour it opens at: 12月1日 早上打卡.
SLOT_TEXTS = (
    (11, N_("{day} morning check-in")),
    (14, N_("{day} midday check-in")),
    (18, N_("{day} afternoon check-in")),
    (24, N_("{day} evening check-in")),
)

# ----- staff and alerts -----

ROLE_NAMES = {
    "grid": N_("grid worker"),
    "community": N_("community worker"),
    "street": N_("street/town worker"),
    "district": N_("district worker"),
    "city": N_("command post worker"),
}
LEVEL_NAMES = {
    "grid": N_("grid"),
    "community": N_("community"),
    "street": N_("street/town"),
    "district": N_("district"),
}
ALERT_TITLES = {
    "refer_clinic": N_("🚨 Symptoms or red code at arrival: refer to the fever clinic"),
    "high_risk_arrival": N_("⚠️ Arrival from a high-risk area"),
    "abroad_arrival": N_("✈️ Arrival from abroad"),
    "pre_arrival": N_("🕒 Expected within 3 days"),
    "confirm_match": N_("❓ Please confirm: the place may be a listed risk area"),
    "rescreen": N_("🔁 Re-screening: people in your grid who were in a newly listed area"),
    "help_request": N_("🙋 Request for help"),
    "missed_checkin": N_("📵 Missed check-in"),
    "positive_test": N_("🚨 Positive test reported"),
    "released": N_("✅ Released at the end of the plan"),
    "release_held": N_("⏸ Plan ended without the negatives it needs: held open, please follow up"),
    "fever": N_("🌡 Fever reported at check-in"),
    "antipyretic": N_(
        "💊 Fever-reducing medicine taken in the last 24 hours: the temperature reported cannot be trusted"
    ),
    "symptoms": N_("🤒 Symptoms reported at check-in"),
    "unreachable": N_(
        "📵 Resident unreachable: they blocked the bot or deleted the chat. Please contact them another way."
    ),
    "health_code": N_("🟨 Yellow or red health code reported: check their travel and test papers"),
    "assign_grid": N_("🏘 A household to place in a grid: their address fits no grid's buildings"),
    "pushed_task": N_("📋 Pushed list: find this person (door to door)"),
    "pushed_transfer": N_(
        "🚐 Pushed list: released from quarantine, coming here: contact them before they travel"
    ),
    "pushed_match": N_("📋 Pushed list: residents of your grid are on it, and were checked again"),
}
# What a worker can record having done about an alert (the buttons).
ACTION_LABELS = {
    "called": N_("📞 Called"),
    "visited": N_("🏠 Visited"),
    "referred": N_("🏥 Referred"),
    "quarantine": N_("🚐 Sent to quarantine"),
}
# What was done, as a line in an alert or the daily report says it.
DONE_TEXTS = {
    "acknowledged": N_("acknowledged"),
    "called": N_("called"),
    "visited": N_("visited"),
    "referred": N_("referred"),
    "quarantine": N_("sent to quarantine"),
    "escalated": N_("escalated"),
    "assigned": N_("placed in a grid"),
    "applied": N_("stricter plan applied: they were there"),
    "cleared": N_("cleared: they were not there"),
    "reached": N_("reached by phone"),
    "not_here": N_("not living here"),
    "unreachable": N_("unreachable"),
    "reported": N_("reported themselves"),
    "matched": N_("had reported already"),
    "transfer": N_("closed-loop transfer recorded"),
    "note": N_("note"),
}
# The reasons a pushed list gives (事由), as a worker reads them.
PUSHED_REASONS = {
    "close_contact": N_("close contact"),
    "contact_of_contact": N_("contact of a close contact"),
    "released_from_quarantine": N_("released from centralised quarantine after entry"),
    "risk_area_arrival": N_("arrival from a medium or high-risk area"),
    "other": N_("other"),
}
# The alerts a daily report lists, as it names them.
INCIDENT_NAMES = {
    "refer_clinic": N_("symptoms or red code at arrival"),
    "fever": N_("fever at check-in"),
    "antipyretic": N_("fever-reducing medicine at check-in"),
    "symptoms": N_("symptoms at check-in"),
    "positive_test": N_("positive test"),
    "missed_checkin": N_("missed check-in"),
    "health_code": N_("yellow or red health code"),
}

__all__ = [
    "ACTION_LABELS",
    "ALERT_TITLES",
    "ARRIVAL_STATES",
    "DONE_TEXTS",
    "HEALTH_CODES",
    "HELP_KINDS",
    "INCIDENT_NAMES",
    "LEVEL_NAMES",
    "PHASE_NAMES",
    "PHASE_TEXTS",
    "PLAN_STATES",
    "PUSHED_REASONS",
    "REASON_TEXTS",
    "RELATIONS",
    "RELATION_NAMES",
    "RISK_NAMES",
    "ROLE_NAMES",
    "SLOT_TEXTS",
    "SYMPTOMS",
    "TEST_ANSWERS",
    "TEST_RESULTS",
    "TRANSPORTS",
]
