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

KEYWORDS: dict[str, object] = {"tr": None, "N_": None, "say": None, "ngettext": (1, 2)}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = ("api", "chat", "handlers", "services", "bot", "rules", "models")


def template() -> Catalog:
    found = Catalog(project="returnee", domain=DOMAIN)
    for folder in SOURCES:
        path = ROOT / folder
        if not path.exists():
            continue
        for filename, _lineno, message, _comments, _ctx in extract_from_dir(
            path, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if message and (isinstance(message, str) or all(message)):
                found.add(message, locations=[(f"{folder}/{filename}", None)])
    return found


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


# The locale each catalog is for: it gives the plural rule written into the catalog
# (Chinese has one form for every number, English two).
LOCALE_OF = {"zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW", "en": "en"}


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(domain=DOMAIN, locale=LOCALE_OF[language])
    with path.open("rb") as handle:
        return read_po(handle, locale=LOCALE_OF[language])


def save(language: str, catalog: Catalog) -> None:
    """The .po as people edit it, and the .mo the bot reads (compiled from it)."""
    from babel.messages.mofile import write_mo

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
    with path.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


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
            if language == "en" and not translated(message.string):
                message.string = message.id
            if language == "zh_Hant" and not translated(message.string):
                source = simplified.get(message.id)
                if source is not None and translated(source.string):
                    message.string = (
                        tuple(to_traditional(str(form)) for form in source.string)
                        if isinstance(source.string, tuple)
                        else to_traditional(str(source.string))
                    )
        save(language, catalog)
        untranslated = sum(1 for m in catalog if m.id and not translated(m.string))
        print(f"{language}: {len(catalog)} texts, {untranslated} untranslated")


def translated(string: object) -> bool:
    """A message has its text: every plural form filled in."""
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def to_traditional(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2t").convert(text))


def missing() -> None:
    catalog = load("zh_Hans")
    print(
        json.dumps(
            [singular(m.id) for m in catalog if m.id and not translated(m.string)],
            ensure_ascii=False,
            indent=1,
        )
    )


def singular(msgid: object) -> str:
    return str(msgid[0]) if isinstance(msgid, tuple | list) else str(msgid)


def set_texts(language: str) -> None:
    texts: dict[str, str | list[str]] = json.load(sys.stdin)
    catalog = load(language)
    by_singular = {singular(m.id): m for m in catalog if m.id}
    for msgid, msgstr in texts.items():
        message = by_singular.get(msgid)
        if message is None:
            print(f"not in the catalog: {msgid!r}", file=sys.stderr)
            continue
        if isinstance(message.id, tuple | list):
            # A text with a number: Chinese has one form for every number.
            forms = [msgstr] if isinstance(msgstr, str) else msgstr
            message.string = tuple(forms)
        else:
            message.string = msgstr if isinstance(msgstr, str) else msgstr[0]
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
