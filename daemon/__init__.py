"""The long-running daemon: crawls on schedule in child processes, alert dispatch, heartbeat,
the one-daemon-per-database lock, signals and `newsmon status`. `scheduler.py` decides when."""
