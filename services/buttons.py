"""The commands behind the buttons of messages the bot starts by itself (a check-in prompt,
the arrival question, a test-result question, an alert): pressed, each works like the user
typing the command, so it needs no open question. handlers/commands.py maps the names."""

from __future__ import annotations

from chat.buttons import CommandData

CHECKIN = CommandData("checkin")
INVITE = CommandData("invite")
ARRIVED = CommandData("arrived")
NOT_YET = CommandData("notyet")
TEST_RESULT = CommandData("test")
ACKNOWLEDGE = CommandData("ack")
RECORD_ACTION = CommandData("act")
ESCALATE = CommandData("escalate")
ASSIGN_GRID = CommandData("grid")
APPLY_STRICTER = CommandData("confirm")
NOT_THERE = CommandData("clear")
# A worker writes to one resident (/write RESIDENT); the resident replies (/reply MESSAGE).
WRITE = CommandData("write")
REPLY = CommandData("reply")
# A pushed list's door-to-door task: what came of it (/outcome ROW KIND), a personal link for
# the person (/plink ROW), the closed-loop transfer before arrival (/transfer ROW), and the
# feedback summary's workbook (/pushed xlsx LIST).
OUTCOME = CommandData("outcome")
PUSHED_LINK = CommandData("plink")
TRANSFER = CommandData("transfer")
PUSHED = CommandData("pushed")
