"""The rules of the house, read from the imports (ast), so they cannot rot unnoticed.

chat/      the engine: nothing of the domain, nothing of Telegram
handlers/  the conversations, on the engine and the services
services/  what happens to the data: never a conversation turn, never a reply
rules/     pure domain rules
models/    tables and their queries
bot/       wiring; the scheduler and the CLI call services, never conversations
emulator/  the Bot API stand-in, apart from the bot
api/       the read API and dashboard: services, models, rules, the engine's i18n and clock
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.app import FLOWS

ROOT = Path(__file__).parents[1]
PACKAGES = ("api", "bot", "chat", "emulator", "handlers", "models", "rules", "services")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module, names imported from it) for every import in the file, nested ones too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names)


def top(module: str) -> str:
    return module.split(".")[0]


def offending(package: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules(package)
        for module, _ in imports(path)
        if top(module) in forbidden
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        # The engine knows nothing of the domain and nothing of Telegram.
        (
            "chat",
            {"handlers", "services", "models", "rules", "bot", "emulator", "aiogram", "telegram"},
        ),
        # Conversations run on the engine and the services; never on a runner.
        ("handlers", {"bot", "emulator", "aiogram", "telegram"}),
        # What happens to the data is the same whoever asks: no conversation in it.
        ("services", {"handlers", "bot", "emulator", "aiogram", "telegram"}),
        ("models", {"handlers", "services", "bot", "emulator", "aiogram", "telegram"}),
        # Pure rules: the standard library, their data, and themselves.
        ("rules", {"handlers", "services", "models", "bot", "chat", "emulator", "sqlalchemy"}),
        # The read API and dashboard stand beside the bot: data through the services, never a
        # conversation or a runner.
        ("api", {"handlers", "bot", "emulator", "aiogram", "telegram"}),
        # The stand-in for Telegram is not part of the bot.
        ("emulator", {"handlers", "services", "models", "bot", "chat", "aiogram", "telegram"}),
    ],
)
def test_each_layer_imports_only_what_lies_below_it(package: str, forbidden: set[str]) -> None:
    assert offending(package, forbidden) == []


def test_the_api_takes_of_the_engine_only_its_words_and_clock() -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules("api")
        for module, _ in imports(path)
        if top(module) == "chat" and module not in ("chat.i18n", "chat.clock")
    ]
    assert found == []


@pytest.mark.parametrize("path", ["bot/scheduler.py", "bot/cli.py"])
def test_the_scheduler_and_the_cli_call_services_never_conversations(path: str) -> None:
    found = [module for module, _ in imports(ROOT / path) if top(module) == "handlers"]
    assert found == []


def test_only_the_cli_and_the_demo_start_the_api() -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for package in PACKAGES
        if package != "api"
        for path in modules(package)
        for module, _ in imports(path)
        if top(module) == "api"
        and path.relative_to(ROOT).as_posix() not in ("bot/cli.py", "bot/demo.py")
    ]
    assert found == []


def test_services_never_take_a_turn_or_return_replies() -> None:
    """A service returns what it did; the conversation that called it words the reply."""
    replies = {"Send", "Edit", "Toast", "Reply", "Incoming"}
    found = [
        f"{path.relative_to(ROOT)}: {module} {names}"
        for path in modules("services")
        for module, names in imports(path)
        if (module in ("chat.forms", "chat.state") and ({"Turn", "Chat"} & set(names)))
        or (module == "chat.contract" and replies & set(names))
    ]
    assert found == []


def test_telegram_libraries_are_imported_by_the_runners_only() -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for package in PACKAGES
        for path in modules(package)
        for module, _ in imports(path)
        if top(module) in ("aiogram", "telegram")
        # ptb_http.py is the PTB runner's request layer (PTB's BaseRequest).
        and path.name not in ("aiogram_runner.py", "ptb_runner.py", "ptb_http.py")
    ]
    assert found == []


def test_no_module_is_imported_only_for_its_side_effects() -> None:
    """Flows are registered by listing them (FLOWS), never by importing a module whose
    import registers them: no import in the code is kept alive by a noqa F401."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in modules(package)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith(("import ", "from "))
        and "F401" in line
        # Alembic's environment: every table must be on the metadata it compares.
        and path != ROOT / "models" / "migrations" / "env.py"
    ]
    assert found == []


def test_every_flow_in_the_handlers_is_registered() -> None:
    """A flow written but not listed in FLOWS would be unreachable; one listed twice, or a
    step leading nowhere, fails when the registry is built."""
    import importlib

    from chat.forms import Flow

    written = set()
    for path in modules("handlers"):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        written |= {id(value) for value in vars(module).values() if isinstance(value, Flow)}
    assert written == {id(flow) for flow in FLOWS}


def test_the_engine_keeps_no_registry_of_its_own() -> None:
    """No module-level dict or list in chat/ that an import could fill."""
    found = []
    for path in modules("chat"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
            if isinstance(node, ast.AnnAssign | ast.Assign):
                value = node.value
                if isinstance(value, ast.Dict | ast.List) and not (
                    isinstance(value, ast.Dict) and value.keys
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
