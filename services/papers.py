"""Papers that prove a plan (issue 19): the notice a resident gets when their plan starts
(居家隔离告知书 / 居家健康监测告知书 / 集中隔离告知书) and the release certificate at its end
(解除管控告知单), as PDF documents in the reader's language, Chinese set in a CJK font. Each
carries a short code a worker checks with /verify CODE.

reportlab is imported only when a paper is drawn, in the drawing process (services/drawing.py),
so the bot never carries it in memory. Chinese uses reportlab's built-in CID fonts
(STSong-Light for 简体, MSung-Light for 繁體): no font file is needed, and the text can be
extracted again (search, screen readers).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import N_, Translator
from models.areas import Area, Level, lineage
from models.chat import ChatUser
from models.outbox import enqueue
from models.papers import NOTICE, RELEASE, Paper, new_code
from models.people import Household, Resident, mask_id
from models.plans import ACTIVE, MonitoringPlan
from services.drawing import drawn
from services.vocabulary import PHASE_NAMES
from services.wording import day_text, phase_text

# The plans that come with a notice: those that keep someone in (a place or their home).
PAPER_KINDS = ("centralised", "home_isolation", "home_monitoring")
TITLES = {
    "centralised": N_("Notice of centralised quarantine"),
    "home_isolation": N_("Notice of home isolation"),
    "home_monitoring": N_("Notice of home health monitoring"),
}
RELEASE_TITLE = N_("Certificate of release from monitoring")
# What the person must do, by the plan's first kind.
RULES = {
    "centralised": (
        N_("Stay at the designated site until the end of the plan; staff take your samples."),
        N_("Report your temperature and how you feel every day."),
    ),
    "home_isolation": (
        N_("Stay at home, in a room of your own; do not go out and receive no visitors."),
        N_("Samples are taken at your home on the test days."),
        N_("Answer the bot's check-ins every day: temperature, symptoms."),
    ),
    "home_monitoring": (
        N_("Stay near home; go out only when you must, wearing a mask; no gatherings."),
        N_("Samples are taken at your home on the test days."),
        N_("Answer the bot's check-ins every day: temperature, symptoms, where you went."),
    ),
}
CJK_FONTS = {"zh_Hans": "STSong-Light", "zh_Hant": "MSung-Light"}


@dataclass(frozen=True)
class PaperText:
    """What a paper says, line by line, before it is drawn (tests read it too)."""

    title: str
    lines: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    footer: str


def first_kind(plan: MonitoringPlan) -> str | None:
    return next((p["kind"] for p in plan.phases if p["kind"] in PAPER_KINDS), None)


def paper_text(
    kind: str,
    code: str,
    person: Resident,
    address: str,
    plan: MonitoringPlan,
    tr: Translator,
    issued: date,
    released: date | None = None,
) -> PaperText:
    """The words of a notice or a certificate, in the reader's language (pure)."""
    plan_kind = first_kind(plan) or "home_monitoring"
    rows = [
        (tr("Name"), person.name or ""),
        (tr("ID number"), mask_id(person.id_number)),
        (tr("Address"), address),
    ]
    if kind == NOTICE:
        title = tr(TITLES[plan_kind])
        rows += [(tr("Plan"), phase_text(p, tr)) for p in plan.phases]
        if plan.test_days:
            days = tr.join(day_text(date.fromisoformat(d), tr) for d in plan.test_days)
            rows.append((tr("Test days"), days))
        notes = tuple(tr(rule) for rule in RULES[plan_kind])
    else:
        title = tr(RELEASE_TITLE)
        kinds = tr.join(tr(PHASE_NAMES.get(p["kind"], p["kind"])) for p in plan.phases)
        rows += [
            (tr("Plan"), kinds),
            (
                tr("From … to"),
                f"{day_text(plan.starts_on, tr)} – {day_text(plan.ends_on, tr)}",
            ),
            (tr("Released on"), day_text(released or issued, tr)),
        ]
        notes = (tr("The monitoring has ended. Keep a mask at hand and watch your health."),)
    footer = tr(
        "Issued on {day}. Verification code {code}: a grid worker checks it with /verify {code}.",
        day=day_text(issued, tr),
        code=code,
    )
    return PaperText(title, tuple(rows), notes, footer)


def render_pdf(text: PaperText, language: str) -> bytes:
    """The paper as a one-page A4 PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    # English papers still carry Chinese names and addresses: the Simplified font has Latin too.
    font = CJK_FONTS.get(language, CJK_FONTS["zh_Hans"])
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle(text.title)
    width, height = A4
    y = height - 80

    def wrapped(text: str, size: float, room: float) -> list[str]:
        """Lines that fit `room` points: broken at spaces where there are, else anywhere
        (Chinese has no spaces between words)."""
        lines, line = [], ""
        for word in re.split(r"(\s+)", text):
            if pdfmetrics.stringWidth(line + word, font, size) <= room:
                line += word
                continue
            if line.strip():
                lines.append(line.rstrip())
                line = ""
            for char in word.lstrip():
                if pdfmetrics.stringWidth(line + char, font, size) > room:
                    lines.append(line)
                    line = ""
                line += char
        return [*lines, line] if line.strip() else lines or [""]

    page.setFont(font, 20)
    page.drawCentredString(width / 2, y, text.title)
    y -= 50
    for label, value in text.lines:
        page.setFont(font, 11)
        page.drawString(70, y, label)
        page.setFont(font, 12)
        for part in wrapped(value, 12, width - 180 - 60):
            page.drawString(180, y, part)
            y -= 20
        y -= 6
    y -= 14
    page.setFont(font, 11)
    for note in text.notes:
        for part in wrapped("• " + note, 11, width - 70 - 60):
            page.drawString(70, y, part)
            y -= 18
    page.setFont(font, 10)
    footer = wrapped(text.footer, 10, width - 70 - 60)
    for index, part in enumerate(footer):
        page.drawString(70, 60 + 16 * (len(footer) - 1 - index), part)
    page.showPage()
    page.save()
    return out.getvalue()


async def _address(session: AsyncSession, person: Resident) -> str:
    grid = await session.get(Area, person.grid_id)
    # The community is where a person lives; the grid is the worker's word, not theirs.
    path = await lineage(session, grid) if grid else []
    where = " ".join(a.name for a in path if a.level != Level.GRID)
    household = await session.get(Household, person.household_id)
    address = household.address if household is not None and household.address else ""
    return f"{where} {address}".strip()


async def _issue(
    session: AsyncSession,
    kind: str,
    plan: MonitoringPlan,
    person: Resident,
    now: datetime,
    zone: ZoneInfo,
) -> Paper | None:
    """Draw the paper in the reporter's language and queue it for them (once per plan)."""
    user = await session.get(ChatUser, person.reporter_user_id)
    if user is None or person.purged_at is not None:
        return None
    tr = Translator(user.language)
    paper = Paper(
        code=new_code(),
        kind=kind,
        plan_id=plan.id,
        resident_id=person.id,
        language=tr.language,
        issued_at=now,
    )
    session.add(paper)
    await session.flush()
    today = now.astimezone(zone).date()
    text = paper_text(kind, paper.code, person, await _address(session, person), plan, tr, today)
    name = tr("notice") if kind == NOTICE else tr("release")
    who = html.escape(person.name or "")
    caption = (
        tr("📄 Your plan's notice, for {name}. Keep it: a worker may ask for its code.", name=who)
        if kind == NOTICE
        else tr("📄 Your release certificate, for {name}.", name=who)
    )
    await enqueue(
        session,
        chat_id=user.chat_id,
        text=caption,
        purpose=f"paper_{kind}",
        dedupe_key=f"paper:{kind}:{plan.id}",
        now=now,
        file=(f"{name}-{paper.code}.pdf", "document", await drawn(render_pdf, text, tr.language)),
    )
    return paper


async def plan_notices(session: AsyncSession, now: datetime, zone: ZoneInfo) -> int:
    """The job: every plan that has begun and keeps someone in gets its notice, once."""
    today = now.astimezone(zone).date()
    has_notice = exists().where(and_(Paper.plan_id == MonitoringPlan.id, Paper.kind == NOTICE))
    query = (
        select(MonitoringPlan, Resident)
        .join(Resident, Resident.id == MonitoringPlan.resident_id)
        .where(
            MonitoringPlan.status == ACTIVE,
            MonitoringPlan.starts_on <= today,
            MonitoringPlan.ends_on >= today,
            Resident.purged_at.is_(None),
            ~has_notice,
        )
        .order_by(MonitoringPlan.id)
        .limit(200)
    )
    issued = 0
    for plan, person in (await session.execute(query)).all():
        if first_kind(plan) is None:
            continue
        if await _issue(session, NOTICE, plan, person, now, zone) is not None:
            issued += 1
    return issued


async def release_certificate(
    session: AsyncSession, plan: MonitoringPlan, person: Resident, now: datetime, zone: ZoneInfo
) -> Paper | None:
    """At release: the certificate, once per plan."""
    known = await session.scalar(
        select(Paper).where(Paper.plan_id == plan.id, Paper.kind == RELEASE)
    )
    return known or await _issue(session, RELEASE, plan, person, now, zone)


async def paper_by_code(session: AsyncSession, code: str) -> Paper | None:
    code = code.strip().upper()
    if not code or len(code) > 16:
        return None
    return await session.scalar(select(Paper).where(Paper.code == code))


__all__ = ["paper_by_code", "paper_text", "plan_notices", "release_certificate", "render_pdf"]
