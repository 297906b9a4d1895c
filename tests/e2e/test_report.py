"""Residents report themselves through the real bot process, as on Telegram. The report is
the core's, so proven on one runner; what the runners do with its keyboards, edits, contacts
and files is in tests/bot/test_ptb_runner.py and test_skeleton.py."""

from __future__ import annotations

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import BotProcess, TelegramUser, new_user

pytestmark = pytest.mark.frameworks("aiogram")
# Where a resident stays, as they give it: the community (the labels of the questions that
# lead to it) and the address, whose building places them in a grid (the demo's areas: the
# first grid of 新华南路社区 takes buildings 1-10, the second 11-20).
Home = tuple[tuple[str, ...], str]
GRID_1: Home = (("雄关区", "新华街道", "新华南路社区"), "3栋2单元501")  # 620201001001001
GRID_2: Home = (("雄关区", "新华街道", "新华南路社区"), "13栋2单元501")  # 620201001001002
GRID_3: Home = (("雄关区", "新华街道", "建设路社区"), "3栋2单元501")  # 620201001002001
GRID_4: Home = (("雄关区", "五一街道", "五一路社区"), "3栋2单元501")  # 620201002001001


def text(message: object) -> str:
    assert isinstance(message, dict)
    return str(message.get("text") or "")


async def consent_and_identity(user: TelegramUser, grid: Home = GRID_1) -> None:
    await user.say("/start")
    await user.press("English")
    await user.press("I agree")
    await user.say("Li Na")
    await user.share_contact("8613812345678")
    await user.say("11010519491231002X")
    community, address = grid
    for label in community:
        await user.press(label)
    await user.say(address)


async def health_and_review(user: TelegramUser) -> None:
    await user.press("Something to report")
    await user.press("36.5")
    await user.press("None of these")
    await user.press("Green")
    await user.press("No test")
    assert "Please check your report" in text(user.last)


async def test_a_domestic_pre_arrival_report_then_arrival_and_corrections(
    bot: BotProcess, user: TelegramUser
) -> None:
    await consent_and_identity(user)
    await user.press("arrive in the next 3 days")
    await user.press("Tomorrow")
    await user.press("14:00")
    await user.say("上海")
    await user.press("Train")
    await user.say("G1234 5车12F")
    await user.press("No more places")
    await user.press("No one more")
    await health_and_review(user)
    assert "G1234" in text(user.last) and "**************002X" in text(user.last)

    # Edit from the summary, then back at the summary.
    await user.press("✏️ Journey")
    await user.press("arrive in the next 3 days")
    await user.press("Tomorrow")
    await user.press("14:00")
    await user.say("上海")
    await user.press("Flight")
    await user.say("MU5101")
    assert "MU5101" in text(user.last) and "Please check your report" in text(user.last)
    await user.press("Submit")
    assert "Your report is filed" in text(user.last)

    # After submitting: correct a field, then say they have arrived.
    await user.say("/edit")
    await user.press("Address")
    await user.say("5栋1单元302")
    assert "Saved" in text(user.last)
    await user.say("/me")
    assert "5栋1单元302" in text(user.last) and "Expected to arrive" in text(user.last)
    await user.say("/arrived")
    await user.press("Just now")
    assert "Welcome" in text(user.last)
    await user.say("/me")
    assert "Arrived" in text(user.last)


async def test_from_abroad_with_two_companions_across_a_restart(
    bot_process: BotProcess, user: TelegramUser
) -> None:
    await consent_and_identity(user)
    await user.press("I have just arrived")
    await user.say("Japan")
    await user.press("Flight")
    await user.say("NH919")
    await user.say("上海浦东机场")
    await user.press("It has ended")
    await user.press("Yesterday")
    await user.press("No more places")

    await bot_process.restart()

    await user.say("Wang Fang")
    await user.press("Spouse")
    await user.say("13912345678")
    await user.press("All well")
    await user.say("Li Xiaoming")
    await user.press("Child")
    await user.press("No phone")
    await user.press("All well")
    assert "Wang Fang" in text(user.last) and "Li Xiaoming" in text(user.last)
    await user.press("No one more")
    await health_and_review(user)
    review = text(user.last)
    assert "上海浦东机场" in review and "Wang Fang" in review and "NH919" in review
    await user.press("Submit")
    assert "Li Na, Wang Fang, Li Xiaoming" in text(user.last)


async def test_a_bad_answer_at_every_question_is_re_asked(
    bot: BotProcess, emulator: EmulatorClient
) -> None:
    user = new_user(emulator)
    await user.say("/start")
    await user.press("English")
    await user.send_other("sticker")
    assert "Please answer with text or the buttons" in text(user.last)
    await user.press("I agree")

    async def bad_then_good(bad: str, good: str, hint: str) -> None:
        await user.say(bad)
        assert hint in text(user.last), text(user.last)
        await user.say(good)

    await bad_then_good("X", "Li Na", "full name")
    await bad_then_good("12", "13812345678", "phone number")
    await bad_then_good("110105194912310021", "E12345678", "ID number")
    await user.say("somewhere")
    assert "choose with the buttons" in text(user.last)
    await user.press("雄关区")
    await user.press("五一街道")
    await user.press("五一路社区")
    await bad_then_good("1", "8号楼1单元101", "building")
    await user.say("maybe")
    assert "choose one of the buttons" in text(user.last)
    await user.press("I arrived earlier")
    await user.say("2099-01-01 10:00")
    assert "must be between" in text(user.last)
    await user.press("Just now")
    await user.send_other("photo")
    assert "Please answer with text or the buttons" in text(user.last)
    await user.say("北京")
    await user.press("Train")
    await bad_then_good("CA1234", "G1234", "train number")
    await user.press("No more places")
    await user.press("No one more")
    await user.press("Something to report")
    await bad_then_good("hot", "36.6", "between 34.0 and 42.5")
    await user.press("Done")
    assert "Choose at least one" in str(await user.callbacks())
    await user.press("None of these")
    await user.say("purple")
    assert "choose one of the buttons" in text(user.last)
    await user.press("Green")
    await user.press("Negative")
    await bad_then_good("yesterday-ish", "2099-01-01", "date like")
    assert "must be between" in text(user.last)
    await user.press("Yesterday")
    assert "Please check your report" in text(user.last)


@pytest.mark.frameworks("aiogram", "ptb")
async def test_a_hong_kong_phone_and_a_chinese_summary_with_chinese_punctuation(
    bot: BotProcess, emulator: EmulatorClient
) -> None:
    """On both runners: a contact shared from a Hong Kong account (no plus, as Telegram gives
    it) is taken, and the summary reads as Chinese does (full-width colons, 、 between names)."""
    user = new_user(emulator, language_code="zh-hans")
    await user.say("/start")
    await user.press("同意")
    await user.say("陈大文")
    await user.share_contact("85291234567")
    await user.say("H12345678")
    await user.say("新华南路社区")
    await user.say("3栋2单元501")
    await user.press("刚刚抵达")
    await user.say("香港")
    await user.press("飞机")
    await user.say("CX 338")
    await user.say("深圳湾口岸")
    await user.press("未结束")
    await user.press("没有其他地点")
    await user.say("陈小明")
    await user.press("子女")
    await user.press("无手机")
    await user.press("一切正常")
    await user.press("没有了")
    await user.press("一切正常")
    await user.press("近14天未检测")
    review = text(user.last)
    assert "+85291234567" in review and "陈小明（子女）" in review
    assert "<b>个人信息：</b>" in (user.last.get("text") or "") or "个人信息：" in review
    assert "个人信息:" not in review
