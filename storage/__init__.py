"""The archive: models, migrations, and every query other parts of newsmon need."""

from newsmon.storage.db import Database, StorageError

__all__ = ["Database", "StorageError"]
