"""Flood limits and fault injection, the two ways the emulator makes a healthy bot fail.

Both are switchable at run time so one emulator process can serve a calm demo and a hostile
end-to-end test in turn.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FaultConfig",
    "LimitConfig",
    "RateLimiter",
    "TokenBucket",
]


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self._clock = clock
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self._last) * self.rate)
        self._last = now

    def wait_time(self) -> float:
        """Seconds until one token is available; 0 when one is there now."""
        self._refill()
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1.0


@dataclass
class LimitConfig:
    enabled: bool = True
    global_rate: float = 30.0
    global_burst: int = 30
    chat_rate: float = 1.0
    chat_burst: int = 3
    # Strict: no burst anywhere. At most `global_rate` calls in any one-second window (a
    # sliding window, not a bucket that starts full) and `chat_rate` a second per chat with
    # a burst of one: what a bot may count on from Telegram, which promises no bursts.
    strict: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "strict": self.strict,
            "global_rate": self.global_rate,
            "global_burst": self.global_burst,
            "chat_rate": self.chat_rate,
            "chat_burst": self.chat_burst,
        }


class RateLimiter:
    """A global bucket and one bucket per chat; a call must find a token in both."""

    def __init__(self, config: LimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.configure(config)

    def configure(self, config: LimitConfig) -> None:
        """New settings start with full buckets, so a test that changes them starts clean."""
        self.config = config
        self._global = TokenBucket(config.global_rate, config.global_burst, self._clock)
        self._chats: dict[int, TokenBucket] = {}
        self._window: deque[float] = deque()

    def _window_wait(self) -> float:
        """Strict mode: seconds until the one-second window has room for one more call."""
        now = self._clock()
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) < self.config.global_rate:
            return 0.0
        return self._window[0] + 1.0 - now

    def acquire(self, chat_id: int | None) -> int | None:
        """Spends a token and returns None, or returns the retry_after Telegram would send."""
        if not self.config.enabled:
            return None
        strict = self.config.strict
        waits = [self._window_wait() if strict else self._global.wait_time()]
        chat_bucket: TokenBucket | None = None
        if chat_id is not None:
            chat_bucket = self._chats.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(
                    self.config.chat_rate, 1 if strict else self.config.chat_burst, self._clock
                )
                self._chats[chat_id] = chat_bucket
            waits.append(chat_bucket.wait_time())
        wait = max(waits)
        if wait > 0:
            return 2**31 - 1 if math.isinf(wait) else max(1, math.ceil(wait))
        if strict:
            self._window.append(self._clock())
        else:
            self._global.take()
        if chat_bucket is not None:
            chat_bucket.take()
        return None


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    latency_ms: float = 0.0
    drop_rate: float = 0.0
    # The call is carried out, then the connection dropped before the answer: what a bot sees
    # when Telegram took a message but its response was lost.
    lose_rate: float = 0.0
    methods: list[str] | None = None
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return (
            self.error_rate > 0 or self.latency_ms > 0 or self.drop_rate > 0 or self.lose_rate > 0
        )

    def applies_to(self, method: str) -> bool:
        """Faults spare getUpdates unless listed, so a flaky API does not also mute users."""
        if self.methods is None:
            return method != "getupdates"
        return method in {m.lower() for m in self.methods}

    def as_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "latency_ms": self.latency_ms,
            "drop_rate": self.drop_rate,
            "lose_rate": self.lose_rate,
            "methods": self.methods,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> FaultConfig:
        """Validates a control-API body; raises ValueError with a readable reason."""
        known = {"error_rate", "latency_ms", "drop_rate", "lose_rate", "methods", "seed"}
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}; known: {sorted(known)}")
        rates: dict[str, float] = {}
        for name in ("error_rate", "drop_rate", "lose_rate"):
            value = body.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number between 0 and 1")
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            rates[name] = float(value)
        latency = body.get("latency_ms", 0.0)
        if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
            raise ValueError("latency_ms must be a non-negative number")
        methods = body.get("methods")
        if methods is not None and (
            not isinstance(methods, list) or not all(isinstance(m, str) for m in methods)
        ):
            raise ValueError("methods must be a list of method names")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        return cls(
            error_rate=rates["error_rate"],
            drop_rate=rates["drop_rate"],
            lose_rate=rates["lose_rate"],
            latency_ms=float(latency),
            methods=methods,
            seed=seed,
        )
