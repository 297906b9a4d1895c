"""Personal numbers encrypted at rest: phones and ID numbers are stored as AES-256-GCM
ciphertext (`Encrypted` columns), with keyed hashes (HMAC-SHA256) beside them for the exact
look-ups a worker's /find needs, so neither a copy of the database nor a dump gives them away.

The key is the setting DATA_KEY (32 random bytes, base64; `returnee admin new-key` prints
one). From it two keys are derived (HKDF): one encrypts, one hashes, and a short key id is
stored with each value, so that after a new DATA_KEY is set (the old one moved to
DATA_KEY_OLD) values under the old key are still read, and `returnee admin rotate-key`
re-encrypts them in batches while the bot runs. Each value is bound to its column (the
associated data), so a ciphertext copied into another column does not decrypt.

The keys are the process's: `use_keys` is called once at start (the bot, the CLI, the demo,
the tests), before any row is read or written."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Dialect, String, Text, TypeDecorator
from sqlalchemy.types import TypeEngine

from models.base import Json

VERSION = "v1"
_JSON = Json()
NONCE = 12
# What is stored: v1.<key id>.<base64 of nonce, ciphertext and tag>.
SEALED = re.compile(rf"{VERSION}\.([0-9a-f]{{8}})\.([A-Za-z0-9_-]+=*)")


class DataKeyError(Exception):
    """A key is missing, malformed, or not the one a value was encrypted with (one line)."""


def new_key() -> str:
    """A new DATA_KEY: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str) -> bytes:
    """The 32 bytes of a DATA_KEY, or DataKeyError saying what is wrong with it."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raise DataKeyError("not base64 (`returnee admin new-key` prints a good one)") from None
    if len(raw) != 32:
        raise DataKeyError(
            f"must be 32 bytes in base64, not {len(raw)} (`returnee admin new-key` prints one)"
        )
    return raw


def _derive(key: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(key)


@dataclass(frozen=True)
class _Key:
    id: str
    aead: AESGCM
    mac: bytes

    @classmethod
    def of(cls, key: bytes) -> _Key:
        return cls(
            id=_derive(key, b"returnee/key-id", 4).hex(),
            aead=AESGCM(_derive(key, b"returnee/aead")),
            mac=_derive(key, b"returnee/lookup"),
        )


class Keyring:
    """The current key (which encrypts and hashes) and older ones (which still decrypt)."""

    def __init__(self, current: bytes, older: Sequence[bytes] = ()) -> None:
        self.current = _Key.of(current)
        self.keys = {k.id: k for k in (self.current, *(_Key.of(o) for o in older))}

    @classmethod
    def generate(cls) -> Keyring:
        return cls(os.urandom(32))

    @classmethod
    def from_settings(cls, current: str, older: str = "") -> Keyring:
        return cls(parse_key(current), [parse_key(k) for k in older.split(",") if k.strip()])

    def encrypt(self, plain: str, column: str) -> str:
        nonce = os.urandom(NONCE)
        sealed = self.current.aead.encrypt(nonce, plain.encode(), column.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}.{self.current.id}.{body}"

    def decrypt(self, stored: str, column: str) -> str:
        sealed = SEALED.fullmatch(stored)
        if sealed is None:
            return stored  # written before encryption (migration 0014 encrypts these)
        key_id, body = sealed.groups()
        key = self.keys.get(key_id)
        if key is None:
            raise DataKeyError(
                f"a value in {column} was encrypted with a key that is neither DATA_KEY nor in "
                "DATA_KEY_OLD"
            )
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return key.aead.decrypt(raw[:NONCE], raw[NONCE:], column.encode()).decode()
        except InvalidTag:
            raise DataKeyError(f"a value in {column} does not decrypt (altered?)") from None

    def key_id(self, stored: str) -> str | None:
        sealed = SEALED.fullmatch(stored)
        return sealed.group(1) if sealed else None

    def lookup(self, value: str, purpose: str) -> str:
        """The keyed hash of a value under the current key (what is stored beside it)."""
        return self._hash(self.current, value, purpose)

    def lookups(self, value: str, purpose: str) -> list[str]:
        """Its hash under every key: during a rotation, rows not yet re-encrypted match too."""
        return [self._hash(k, value, purpose) for k in self.keys.values()]

    @staticmethod
    def _hash(key: _Key, value: str, purpose: str) -> str:
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(key.mac, message, hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def use_keys(keyring: Keyring) -> None:
    """The keys this process encrypts, decrypts and hashes with."""
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise DataKeyError("DATA_KEY: missing (`returnee admin new-key` prints one)")
    return _keyring


class Encrypted(TypeDecorator[str]):
    """A text column stored encrypted, read back as the text (`column` binds each value to
    its place). Only equality of hashes can be searched: compare the hash column, never this."""

    # VARCHAR with no length: unbounded on PostgreSQL, and on SQLite (which keeps no length)
    # the columns stayed as they were, with no table to rebuild (migration 0014).
    impl = String
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        # Nothing is no secret: an emptied text stays "" (and can be compared with it).
        return value if not value else keyring().encrypt(value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(value, self.column)


class EncryptedText(Encrypted):
    """`Encrypted` on a TEXT column (the messages the bot sends, which quote names and
    phones); texts written before it are read as they are."""

    impl = Text
    cache_ok = True


class EncryptedJson(TypeDecorator[Any]):
    """A JSON column whose value is stored as one encrypted JSON string (a conversation's
    answers so far: a name, a phone, an ID number before the report is filed). Rows written
    before it are read as they are, and encrypted when next written."""

    impl = JSON
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _JSON.load_dialect_impl(dialect)  # JSONB on PostgreSQL, as every JSON column

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value == {} or value == []:
            # Nothing to hide (an erased row's columns, a conversation not begun): stored as
            # it is, so erasing needs no key.
            return value
        return keyring().encrypt(json.dumps(value, ensure_ascii=False), self.column)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and SEALED.fullmatch(value):
            return json.loads(keyring().decrypt(value, self.column))
        return value
