"""Keeps the gettext catalogs in step with the code (a developer's tool, not shipped).

python scripts/i18n.py extract        # add new texts, drop gone ones; en = the ids;
                                      # zh_Hant filled from zh_Hans by OpenCC where empty
python scripts/i18n.py missing        # JSON of texts zh_Hans still lacks
python scripts/i18n.py set zh_Hans < translations.json   # {"msgid": "msgstr", …}
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chat.i18n import DOMAIN, LANGUAGES, LOCALES  # noqa: E402

KEYWORDS = {"tr": None, "N_": None, "say": None}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = ("chat", "handlers", "services", "bot", "rules", "models")


def template() -> Catalog:
    found = Catalog(project="returnee", domain=DOMAIN)
    for folder in SOURCES:
        path = ROOT / folder
        if not path.exists():
            continue
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            path, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:
                found.add(message, locations=[(f"{folder}/{filename}", lineno)])
    return found


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle)


def save(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # Sorted by id, without line numbers or dates: a change to the code moves no entry,
        # and two branches adding texts rarely touch the same lines.
        catalog.creation_date = catalog.revision_date = FIXED_DATE
        write_po(
            handle,
            catalog,
            width=0,
            omit_header=False,
            include_previous=False,
            sort_output=True,
            include_lineno=False,
        )


def extract() -> None:
    fresh = template()
    simplified = load("zh_Hans")
    for language in LANGUAGES:
        catalog = load(language)
        catalog.update(fresh, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for message in catalog:
            if not message.id:
                continue
            message.flags.discard("fuzzy")
            if language == "en" and not message.string:
                message.string = message.id
            if language == "zh_Hant" and not message.string:
                source = simplified.get(message.id)
                if source is not None and source.string:
                    message.string = to_traditional(str(source.string))
        save(language, catalog)
        untranslated = sum(1 for m in catalog if m.id and not m.string)
        print(f"{language}: {len(catalog)} texts, {untranslated} untranslated")


def to_traditional(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2t").convert(text))


def missing() -> None:
    catalog = load("zh_Hans")
    print(
        json.dumps(
            [str(m.id) for m in catalog if m.id and not m.string], ensure_ascii=False, indent=1
        )
    )


def set_texts(language: str) -> None:
    texts: dict[str, str] = json.load(sys.stdin)
    catalog = load(language)
    for msgid, msgstr in texts.items():
        message = catalog.get(msgid)
        if message is None:
            print(f"not in the catalog: {msgid!r}", file=sys.stderr)
            continue
        message.string = msgstr
    save(language, catalog)


if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else "extract"
    if verb == "extract":
        extract()
    elif verb == "missing":
        missing()
    elif verb == "set":
        set_texts(sys.argv[2])
        extract()
    else:
        sys.exit(__doc__)
