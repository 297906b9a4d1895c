"""The dashboard under /web: an area at a glance for the levels above the grid, in the
reader's language (简体中文 by default, 繁體中文, English), readable at phone width, with no
script. A worker signs in with the link /web sends them in the bot; the session sees their
areas as the bot does, and each page they open is written to the audit log."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Translator
from models.areas import Area, area_by_code
from models.chat import ChatUser
from models.staff import audit
from services.access import SESSION_VALID, redeem_link, web_scope
from services.dashboard import Overview, overview
from services.feeds import AreaDay
from services.figures import DayPoint
from services.pushed import COUNT_NAMES, COUNTS
from services.records import Scope
from services.vocabulary import ALERT_TITLES, LEVEL_NAMES, PHASE_NAMES

SESSION_COOKIE = "returnee_session"
LANGUAGE_COOKIE = "returnee_lang"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# The figures on the cards: (key, label); each with its change from yesterday.
CARDS = (
    ("reports", N_("Reports received")),
    ("arrived", N_("Arrived")),
    ("expected", N_("Expected in 3 days")),
    ("monitoring", N_("Under monitoring")),
    ("checkins", N_("Check-ins answered")),
    ("missed", N_("Missed check-ins")),
    ("abnormal", N_("Abnormal reports")),
    ("released", N_("Released")),
    ("alerts_open", N_("Open alerts")),
    ("alerts_overdue", N_("Overdue alerts")),
)
TREND = (
    ("arrivals", N_("Arrivals"), "#2563eb"),
    ("monitoring", N_("Under monitoring"), "#059669"),
    ("abnormal", N_("Abnormal reports"), "#dc2626"),
)
# Open alerts by age: (up to this age, label).
AGES = (
    (timedelta(hours=2), N_("under 2 hours")),
    (timedelta(hours=6), N_("2 to 6 hours")),
    (timedelta(hours=24), N_("6 to 24 hours")),
    (timedelta.max, N_("over a day")),
)

# The page's words.
SAME = N_("same as yesterday")
DASHBOARD = N_("Dashboard")
LAST_DAYS = N_("Last {days} days")
OPEN_FOR = N_("Open for")
ALERT = N_("Alert")
GRID = N_("Grid")
LEVEL = N_("Level")
HELD_BY = N_("Held by")
NOBODY = N_("nobody yet")
NO_ALERTS = N_("No open alerts.")
MORE = N_("…and {n} more")
BELOW = N_("Areas below, the most overdue first")
AREA = N_("Area")
OVERDUE = N_("Overdue alerts")
OPEN = N_("Open alerts")
MISSED = N_("Missed check-ins")
MONITORING = N_("Under monitoring")
ANSWERED = N_("Check-ins answered")
ARRIVED = N_("Arrived")
AS_OF = N_("As of {time} local time; the figures are those of the daily report.")
OPEN_N = N_("Open alerts: {n}")
PUSHED_LISTS = N_("Lists pushed from above: progress")
LIST = N_("List")
LINK_USED = N_(
    "This sign-in link has been used or has expired. Send /web to the bot for a new one."
)
NOT_YOURS = N_("No such area among yours.")
SIGN_IN_TITLE = N_("Sign in to the dashboard")
SIGN_IN = N_("Sign in")

router = APIRouter(prefix="/web", include_in_schema=False)


def figure(row: AreaDay, key: str) -> int:
    c = row.counts
    values = {
        "reports": c.reports,
        "arrived": c.arrived,
        "expected": c.expected,
        "monitoring": c.monitoring,
        "checkins": c.checkins_answered,
        "checkins_due": c.checkins_due,
        "missed": c.checkins_missed,
        "abnormal": c.abnormal,
        "released": c.released,
        "alerts_open": c.alerts.open,
        "alerts_overdue": c.alerts.overdue,
    }
    return values[key]


def change(now: int, before: int, tr: Translator) -> str:
    if now == before:
        return f'<span class="same">{html.escape(tr(SAME))}</span>'
    sign, cls = ("+", "up") if now > before else ("−", "down")
    amount = f"{sign}{abs(now - before)}"
    text = tr("{change} from yesterday", change=amount)
    return f'<span class="{cls}">{html.escape(text)}</span>'


def age_text(age: timedelta, tr: Translator) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return tr("{n} min", n=minutes)
    if minutes < 48 * 60:
        return tr("{n} h", n=minutes // 60)
    return tr("{n} days", n=minutes // (24 * 60))


def chart(points: Sequence[DayPoint], tr: Translator) -> str:
    """The trend as an inline SVG: a line per series, the days below, the top value aside."""
    width, height, left, bottom, top = 640, 220, 34, 24, 12
    top_value = max([1, *(getattr(p, key) for p in points for key, _, _ in TREND)])
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (width - left - 8) * i / n

    def y(v: int) -> float:
        return float(top + (height - top - bottom) * (1 - v / top_value))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(tr(LAST_DAYS, days=len(points)))}">',
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 8}" y2="{y(0):.1f}" class="axis"/>',
        f'<text x="{left - 4}" y="{y(top_value) + 4:.1f}" class="tick" text-anchor="end">'
        f"{top_value}</text>",
        f'<text x="{left - 4}" y="{y(0) + 4:.1f}" class="tick" text-anchor="end">0</text>',
    ]
    last = len(points) - 1
    for i, point in enumerate(points):
        if (last - i) % 2 == 0:
            anchor = "end" if i == last else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" class="tick" text-anchor="{anchor}">'
                f"{point.day:%m-%d}</text>"
            )
    for key, _, colour in TREND:
        line = " ".join(f"{x(i):.1f},{y(getattr(p, key)):.1f}" for i, p in enumerate(points))
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'data-series="{key}" data-last="{getattr(points[-1], key) if points else 0}"/>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{html.escape(tr(label))} '
        f"{getattr(points[-1], key) if points else 0}</span>"
        for key, label, colour in TREND
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


STYLE = """
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"PingFang SC",
"Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#111827;background:#f3f4f6}
header{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:space-between;align-items:center;
padding:.6rem 1rem;background:#1f2937;color:#fff}header a{color:#d1d5db;margin-left:.6rem}
header a.on{color:#fff;font-weight:600;text-decoration:none}main{max-width:1100px;margin:auto;
padding:1rem}nav.crumbs{font-size:.9rem;color:#4b5563}nav.crumbs a{color:#1d4ed8}
h1{font-size:1.4rem;margin:.3rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .6rem}
section{background:#fff;border-radius:10px;padding:1rem;margin-bottom:1rem;
box-shadow:0 1px 2px rgba(0,0,0,.06)}.cards{display:grid;
grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem;background:none;
box-shadow:none;padding:0}.card{background:#fff;border-radius:10px;padding:.7rem .8rem;
box-shadow:0 1px 2px rgba(0,0,0,.06)}.card b{display:block;font-size:1.7rem;line-height:1.2}
.card small{font-size:.8rem}.up{color:#b91c1c}.down{color:#047857}.same{color:#6b7280}
.chart{width:100%;height:auto}.axis{stroke:#9ca3af}.tick{font-size:12px;fill:#6b7280}
.legend span{margin-right:1rem;white-space:nowrap}.legend i{display:inline-block;width:.8rem;
height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
table{width:100%;border-collapse:collapse;font-size:.92rem}th,td{padding:.4rem .35rem;
text-align:left;border-bottom:1px solid #e5e7eb}th{color:#4b5563;font-weight:600}
td.n,th.n{text-align:right}.wide{overflow-x:auto}.ages{display:flex;flex-wrap:wrap;gap:.5rem;
margin-bottom:.6rem}.ages span{background:#f3f4f6;border-radius:6px;padding:.2rem .5rem}
.hot{color:#b91c1c;font-weight:600}button{font:inherit;font-size:1.1rem;padding:.6rem 1.6rem;
border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer}.note{color:#6b7280;font-size:.85rem}
@media (max-width:560px){main{padding:.6rem}.cards{grid-template-columns:1fr 1fr}
.hide-narrow{display:none}h1{font-size:1.2rem}}
"""


def page(title: str, body: str, tr: Translator, language_links: str = "") -> str:
    lang = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant"}.get(tr.language, "en")
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><strong>returnee · {html.escape(tr(DASHBOARD))}</strong>"
        f"<span>{language_links}</span></header><main>{body}</main></body></html>"
    )


def language_links(path: str, tr: Translator) -> str:
    return "".join(
        f'<a href="{path}?lang={code}" class="{"on" if code == tr.language else ""}" '
        f'hreflang="{code}">{html.escape(name)}</a>'
        for code, name in LANGUAGES.items()
    )


def pushed_section(view: Overview, tr: Translator) -> str:
    """Each list pushed from above with a row in the area: what has come of its people."""
    if not view.pushed:
        return ""
    e = html.escape
    head = "".join(f'<th class="n">{e(tr(COUNT_NAMES[name]))}</th>' for name in COUNTS)
    rows = "".join(
        f'<tr data-list="{f.list_id}"><td>{e(f.source)}</td>'
        + "".join(
            f'<td class="n{" hot" if name == "overdue" and f.counts[name] else ""}" '
            f'data-count="{name}">{f.counts[name]}</td>'
            for name in COUNTS
        )
        + "</tr>"
        for f in view.pushed
    )
    return (
        f'<section id="pushed"><h2>{e(tr(PUSHED_LISTS))}</h2>'
        f'<div class="wide"><table><thead><tr><th>{e(tr(LIST))}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def render(view: Overview, tr: Translator, now: datetime) -> str:
    e = html.escape
    area, today, yesterday = view.area, view.today, view.yesterday
    path = f"/web/area/{area.code}"
    crumbs = " › ".join(
        [f'<a href="/web/area/{a.code}">{e(a.name)}</a>' for a in view.above] + [e(area.name)]
    )
    cards = []
    for key, label in CARDS:
        value = figure(today, key)
        shown = str(value)
        if key == "checkins":
            shown = f"{value}<small> / {figure(today, 'checkins_due')}</small>"
        cards.append(
            f'<div class="card" data-figure="{key}" data-value="{value}">'
            f"{e(tr(label))}<b>{shown}</b><small>{change(value, figure(yesterday, key), tr)}"
            "</small></div>"
        )
    kinds = ", ".join(
        f"{e(tr(PHASE_NAMES.get(kind, kind)))} {count}"
        for kind, count in today.counts.by_kind.items()
    )
    ages = [0] * len(AGES)
    for alert in view.open_alerts:
        age = now - alert.created_at
        ages[next(i for i, (limit, _) in enumerate(AGES) if age < limit)] += 1
    alert_rows = "".join(
        f'<tr><td class="{"hot" if now - a.created_at >= AGES[1][0] else ""}">'
        f"{e(age_text(now - a.created_at, tr))}</td>"
        f"<td>{e(tr(ALERT_TITLES.get(a.kind, a.kind)))}</td><td>{e(a.grid.name)}</td>"
        f'<td class="hide-narrow">{e(tr(LEVEL_NAMES.get(a.level, a.level)))}</td>'
        f"<td>{e(tr.join(a.holders) if a.holders else tr(NOBODY))}</td></tr>"
        for a in view.open_alerts
    )
    alerts = (
        f'<div class="ages">{"".join(f"<span>{e(tr(label))}: {n}</span>" for (_, label), n in zip(AGES, ages, strict=True))}</div>'
        f'<div class="wide"><table><thead><tr><th>{e(tr(OPEN_FOR))}</th><th>{e(tr(ALERT))}</th>'
        f'<th>{e(tr(GRID))}</th><th class="hide-narrow">{e(tr(LEVEL))}</th>'
        f"<th>{e(tr(HELD_BY))}</th></tr></thead><tbody>{alert_rows}</tbody></table></div>"
        if view.open_alerts
        else f"<p>{e(tr(NO_ALERTS))}</p>"
    )
    if view.open_count > len(view.open_alerts):
        alerts += f'<p class="note">{e(tr(MORE, n=view.open_count - len(view.open_alerts)))}</p>'
    below = ""
    if view.below:
        rows = "".join(
            f'<tr data-area="{child.area.code}"><td><a href="/web/area/{child.area.code}">'
            f"{e(child.area.name)}</a></td>"
            f'<td class="n{" hot" if child.counts.alerts.overdue else ""}">'
            f"{child.counts.alerts.overdue}</td>"
            f'<td class="n">{child.counts.alerts.open}</td>'
            f'<td class="n">{child.counts.checkins_missed}</td>'
            f'<td class="n hide-narrow">{child.counts.monitoring}</td>'
            f'<td class="n hide-narrow">{child.counts.checkins_answered}/'
            f"{child.counts.checkins_due}</td>"
            f'<td class="n hide-narrow">{child.counts.arrived}</td></tr>'
            for child, _ in view.below
        )
        below = (
            f"<section><h2>{e(tr(BELOW))}</h2>"
            f'<div class="wide"><table><thead><tr><th>{e(tr(AREA))}</th>'
            f'<th class="n">{e(tr(OVERDUE))}</th><th class="n">{e(tr(OPEN))}</th>'
            f'<th class="n">{e(tr(MISSED))}</th>'
            f'<th class="n hide-narrow">{e(tr(MONITORING))}</th>'
            f'<th class="n hide-narrow">{e(tr(ANSWERED))}</th>'
            f'<th class="n hide-narrow">{e(tr(ARRIVED))}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div></section>"
        )
    body = (
        f'<nav class="crumbs">{crumbs}</nav>'
        f"<h1>{e(area.name)} · {view.day.isoformat()}</h1>"
        f'<section class="cards">{"".join(cards)}</section>'
        + (f'<p class="note">{kinds}</p>' if kinds else "")
        + f"<section><h2>{e(tr(LAST_DAYS, days=len(view.trend)))}</h2>"
        f"{chart(view.trend, tr)}</section>"
        f"<section><h2>{e(tr(OPEN_N, n=view.open_count))}</h2>{alerts}</section>"
        f"{below}"
        f"{pushed_section(view, tr)}"
        f'<p class="note">{e(tr(AS_OF, time=now.strftime("%H:%M")))}</p>'
    )
    return page(f"{area.name} · returnee", body, tr, language_links(path, tr))


def message_page(status: int, text: str, tr: Translator) -> HTMLResponse:
    body = f"<section><p>{html.escape(text)}</p></section>"
    return HTMLResponse(page("returnee", body, tr), status_code=status, headers=HEADERS)


async def reader_language(
    session: AsyncSession, scope: Scope | None, chosen: str | None
) -> Translator:
    if chosen in LANGUAGES:
        return Translator(chosen)
    user = await session.get(ChatUser, scope.user_id) if scope else None
    return Translator(user.language if user and user.language else DEFAULT_LANGUAGE)


SIGNED_OUT = N_(
    "You are not signed in, or your session has ended. Send /web to the bot for a sign-in link."
)


@router.get("/login")
async def login_form(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The link from /web opens a page with one button: signing in takes a press (a POST),
    so Telegram's link preview, which fetches the link, cannot use it up."""
    async with request.app.state.sessions() as session:
        tr = await reader_language(session, None, request.cookies.get(LANGUAGE_COOKIE))
    body = (
        f"<section><h1>{html.escape(tr(SIGN_IN_TITLE))}</h1>"
        '<form method="post" action="/web/login">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        f'<button type="submit">{html.escape(tr(SIGN_IN))}</button></form></section>'
    )
    return HTMLResponse(page("returnee", body, tr), headers=HEADERS)


@router.post("/login")
async def login(request: Request) -> Response:
    config = request.app.state.config
    form = parse_qs((await request.body())[:1000].decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    async with request.app.state.sessions.begin() as session:
        tr = await reader_language(session, None, request.cookies.get(LANGUAGE_COOKIE))
        secret = await redeem_link(session, token, config.clock.now()) if token else None
    if secret is None:
        return message_page(401, tr(LINK_USED), tr)
    response = RedirectResponse("/web", status_code=303, headers=HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_VALID.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=config.public_url.startswith("https://"),
        path="/web",
    )
    return response


@router.get("")
async def home(
    request: Request,
    session_cookie: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        scope = (
            await web_scope(session, session_cookie, config.clock.now()) if session_cookie else None
        )
        if scope is None:
            tr = await reader_language(session, None, request.cookies.get(LANGUAGE_COOKIE))
            return message_page(401, tr(SIGNED_OUT), tr)
    return RedirectResponse(f"/web/area/{scope.areas[0].code}", status_code=303, headers=HEADERS)


@router.get("/area/{code}")
async def area_page(
    code: str,
    request: Request,
    lang: str | None = None,
    session_cookie: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    config = request.app.state.config
    now = config.clock.now()
    chosen = lang if lang in LANGUAGES else request.cookies.get(LANGUAGE_COOKIE)
    async with request.app.state.sessions.begin() as session:
        scope = await web_scope(session, session_cookie, now) if session_cookie else None
        tr = await reader_language(session, scope, chosen)
        if scope is None:
            return message_page(401, tr(SIGNED_OUT), tr)
        area: Area | None = await area_by_code(session, code)
        if area is None or not scope.covers(area):
            await audit(session, scope.user_id, "web_refused", f"area:{code}"[:64], now)
            return message_page(404, tr(NOT_YOURS), tr)
        view = await overview(
            session,
            area,
            now=now,
            zone=config.zone,
            overdue_after=config.overdue_after,
            at=config.report_at,
        )
        await audit(session, scope.user_id, "web_view", f"area:{code}", now)
    text = render(view, tr, now.astimezone(config.zone))
    response = HTMLResponse(text, headers=HEADERS)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/web"
        )
    return response
