"""How late the daemon's polls start against their schedule, over a sliding window: the
daemon warns when the 95th percentile passes `daemon.lag_warning` (it cannot keep up)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

WINDOW = 600.0  # seconds of polls the percentile is taken over
WARN_EVERY = 60.0  # while behind, one warning a minute


@dataclass(frozen=True)
class LagReport:
    polls: int
    p95: float
    max: float


class PollLag:
    def __init__(self) -> None:
        self._lags: deque[tuple[float, float]] = deque()  # (monotonic time, lag in seconds)
        self._lock = threading.Lock()  # polls start in several threads
        self._warned = float("-inf")

    def add(self, lag: float, now: float | None = None) -> None:
        with self._lock:
            self._lags.append((time.monotonic() if now is None else now, max(0.0, lag)))

    def report(self, now: float) -> LagReport | None:
        with self._lock:
            while self._lags and self._lags[0][0] < now - WINDOW:
                self._lags.popleft()
            lags = sorted(lag for _, lag in self._lags)
        if not lags:
            return None
        p95 = lags[min(len(lags) - 1, int(0.95 * len(lags)))]
        return LagReport(len(lags), p95, lags[-1])

    def behind(self, threshold: float, now: float) -> LagReport | None:
        """The report when p95 is over `threshold` and no warning was given this minute."""
        report = self.report(now)
        if report is None or report.p95 <= threshold or now - self._warned < WARN_EVERY:
            return None
        self._warned = now
        return report
