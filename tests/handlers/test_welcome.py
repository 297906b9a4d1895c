"""First contact: language, privacy notice, consent — and a conversation that survives."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.clock import FixedClock
from handlers.app import Core
from models.chat import ChatUser, Conversation
from services.options import Options
from tests.support import Person


async def test_start_shows_the_notice_in_the_language_telegram_gives_with_the_others_as_buttons(
    resident: Person,
) -> None:
    await resident.send("/start")
    assert "谁能看到" in resident.last.text
    assert resident.last.labels == ["同意", "不同意", "✓ 简体中文", "繁體中文", "English"]


async def test_an_english_telegram_gets_the_notice_in_english_at_once(core: Core) -> None:
    visitor = Person(core, user_id=1002, language="en-GB")
    await visitor.send("/start")
    assert "Who sees it" in visitor.last.text and "30 days" in visitor.last.text
    assert visitor.last.labels[:2] == ["I agree", "I do not agree"]


async def test_choosing_english_redraws_the_same_notice_in_english(resident: Person) -> None:
    await resident.send("/start")
    notice = resident.last
    await resident.press("English")
    assert resident.last is notice and notice.edits == 1
    assert "Who sees it" in notice.text and "30 days" in notice.text
    assert notice.labels == ["I agree", "I do not agree", "简体中文", "繁體中文", "✓ English"]


async def test_declining_keeps_only_the_refusal_and_says_how_to_come_back(
    resident: Person, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I do not agree")
    assert "/start" in resident.last.text and "nothing about you" in resident.last.text
    async with sessions() as session:
        user = await session.get(ChatUser, resident.user_id)
        assert user is not None and user.declined_at is not None and user.consented_at is None
        conversation = await session.get(Conversation, resident.user_id)
        assert conversation is None or conversation.answers == {}


async def test_agreeing_starts_the_report_with_the_name(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    assert resident.last.text.endswith("What is your full name?")


async def test_a_sticker_gets_a_re_ask_and_changes_nothing(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.send_sticker()
    assert resident.last.text.startswith("Please answer with text or the buttons.")
    assert "Do you agree?" in resident.last.text
    assert resident.last.labels[:2] == ["I agree", "I do not agree"]


async def test_a_stale_button_is_refused_and_the_current_question_asked_again(
    resident: Person,
) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press_data("ask_new_language|zh_Hant", resident.last.message_id)
    assert resident.toasts[-1] == "That question is closed."
    assert "Who sees it" in resident.last.text  # still English, still the consent question


async def test_a_forged_button_changes_nothing(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press_data("ask_consent|maybe", resident.last.message_id)
    assert resident.toasts[-1] == "Please choose one of the buttons."
    await resident.press("I agree")
    assert resident.last.text.endswith("What is your full name?")


async def test_typing_the_label_works_like_pressing_the_button(resident: Person) -> None:
    await resident.send("/start")
    await resident.send("english")
    assert resident.last.labels[:2] == ["I agree", "I do not agree"]


async def test_a_new_core_on_the_same_database_continues_where_the_user_was(
    resident: Person, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    await resident.send("Li Na")
    # The bot restarts: a new core, nothing in memory.
    resident.core = Core(sessions, clock, Options())
    await resident.send("13812345678")
    async with sessions() as session:
        conversation = (await session.scalars(select(Conversation))).one()
    assert conversation.answers["name"] == "Li Na"
    assert conversation.answers["phone"] == "+8613812345678"
    assert conversation.step == "ask_id_number"


async def test_cancel_keeps_the_answers_and_start_goes_on(resident: Person) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    await resident.send("Li Na")
    await resident.send("/cancel")
    assert "kept" in resident.last.text
    await resident.send("hello?")
    assert "unfinished report" in resident.last.text
    await resident.send("/start")
    assert "Your phone number?" in resident.last.text


async def test_language_can_be_changed_mid_report_and_the_question_comes_back(
    resident: Person,
) -> None:
    await resident.send("/start")
    await resident.press("English")
    await resident.press("I agree")
    await resident.send("/language")
    await resident.press("繁體中文")
    assert resident.last.text != "What is your full name?"  # asked again, now in Chinese
    await resident.send("/language")
    await resident.press("English")
    assert resident.last.text.endswith("What is your full name?")
