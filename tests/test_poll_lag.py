"""spiders/poll_lag.py: when the daemon says it is falling behind."""

from __future__ import annotations

from newsmon.spiders.poll_lag import WINDOW, PollLag


def test_a_warning_once_a_minute_while_p95_lag_is_over_the_threshold() -> None:
    lag = PollLag()
    for second in range(100):  # 100 polls: 94 on time, 6 two minutes late
        lag.add(120.0 if second >= 94 else 0.5, now=float(second))
    report = lag.behind(60.0, now=100.0)
    assert report is not None and report.polls == 100
    assert report.p95 == 120.0 and report.max == 120.0
    assert lag.behind(60.0, now=130.0) is None  # said once; quiet for a minute
    assert lag.behind(60.0, now=161.0) is not None  # still behind a minute later: said again


def test_no_warning_when_only_a_few_polls_are_late_or_they_are_old() -> None:
    lag = PollLag()
    for second in range(100):  # 3 % late: p95 is on time
        lag.add(300.0 if second < 3 else 1.0, now=float(second))
    assert lag.behind(60.0, now=100.0) is None
    late = PollLag()
    late.add(500.0, now=0.0)
    assert late.behind(60.0, now=WINDOW + 1) is None  # out of the window: forgotten
