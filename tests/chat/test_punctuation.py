"""Chinese texts use Chinese (full-width) punctuation: "姓名：王芳", "王小红（子女）", not
"姓名: 王芳" — as a reader of Chinese expects, in both catalogs."""

from __future__ import annotations

import re

import pytest

from chat.i18n import catalog

CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
# Half-width punctuation touching a Chinese character, on either side.
HALF_WIDTH = re.compile(rf"(?:{CJK}[,:;?!()])|(?:[,:;?!(]{CJK})|(?:{CJK}\s+[,:;?!)])")
# What is not prose: placeholders, tags, commands, and examples of what to type.
NOT_PROSE = re.compile(
    r"\{[a-z_]+\}|</?[a-z]+>|/[a-z_]+|\d{1,2}:\d{2}|[A-Za-z0-9]+\s*\d[\w]*|e\.g\."
)


def forms(string: object) -> list[str]:
    return [str(f) for f in string] if isinstance(string, tuple | list) else [str(string)]


def offending(text: str) -> list[str]:
    cleaned = NOT_PROSE.sub("", text)
    return [m.group(0) for m in HALF_WIDTH.finditer(cleaned)]


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant"])
def test_chinese_texts_use_full_width_punctuation(language: str) -> None:
    found = {
        str(m.id): offending(" ".join(forms(m.string)))
        for m in catalog(language)
        if m.id and offending(" ".join(forms(m.string)))
    }
    assert found == {}, f"{len(found)} texts: {found}"


def test_the_rule_catches_what_it_should() -> None:
    assert offending("姓名: 王芳") and offending("王小红 (子女)") and offending("王小明, 王小红")
    assert not offending("姓名：王芳") and not offending("请发送 /start 继续")
    assert not offending("如：G1234, D301") and not offending("{name}（{relation}）")
