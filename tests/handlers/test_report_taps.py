"""How much a returning resident has to do, counted the way they would: every message typed,
button pressed or contact shared, from /start to the report filed."""

from __future__ import annotations

import pytest

from tests.support import Person

pytestmark = pytest.mark.usefixtures("areas")

# The aims (issue 18): from 26 and 38 actions before.
MINIMAL_AIM = 16
WITH_A_COMPANION_AND_TWO_PLACES_AIM = 26


async def identity_and_home(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("同意")
    await resident.send("王芳")
    await resident.share_contact("8613812345678")
    await resident.send("11010519491231002X")
    await resident.send("新华南路社区")
    await resident.send("3栋2单元501")
    await resident.press("刚刚抵达")
    await resident.send("武汉")
    await resident.press("火车")
    await resident.send("G1234 5车12F")


async def health_and_submit(resident: Person) -> None:
    await resident.press("一切正常")
    await resident.press("近14天未检测")
    await resident.press("提交")
    assert "已提交" in resident.last.text or "报备" in resident.last.text


async def test_a_minimal_report_takes_at_most_16_actions(resident: Person) -> None:
    await identity_and_home(resident)
    await resident.press("没有其他地点")
    await resident.press("没有了")
    await health_and_submit(resident)
    assert resident.actions <= MINIMAL_AIM, resident.actions


async def test_a_report_with_a_companion_and_two_places_takes_at_most_26_actions(
    resident: Person,
) -> None:
    await identity_and_home(resident)
    for place in ("南京", "上海"):
        await resident.send(place)
        await resident.press("昨天")
        await resident.press("今天")
    await resident.press("没有其他地点")
    await resident.send("王小红")
    await resident.press("子女")
    await resident.press("无手机")
    await resident.press("一切正常")
    await resident.press("没有了")
    await health_and_submit(resident)
    assert "王小红" in resident.texts()[-1] or any("王小红" in t for t in resident.texts()[-3:])
    assert resident.actions <= WITH_A_COMPANION_AND_TWO_PLACES_AIM, resident.actions
