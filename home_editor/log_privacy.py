"""Library ids are keys: they must not reach the logs. The app's own messages never name one; SQL
logging (SQLAlchemy's `sqlalchemy.engine` at INFO/DEBUG shows parameters and result rows) would, so its
records are redacted, and database errors carry no parameters (`hide_parameters`)."""

from __future__ import annotations

import logging
import re

from home_editor.core.models import ID_ALPHABET, LIBRARY_ID_LENGTH

LIBRARY_ID_TEXT = re.compile(f"(?<![{ID_ALPHABET}])[{ID_ALPHABET}]{{{LIBRARY_ID_LENGTH}}}(?![{ID_ALPHABET}])")
REDACTED = "<library id>"
SQL_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy")


class RedactLibraryIds(logging.Filter):
    """Replaces anything shaped like a library id in a record's message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = LIBRARY_ID_TEXT.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def keep_library_ids_out_of_sql_logs() -> None:
    """Install the redaction on SQLAlchemy's loggers (once per process)."""
    for name in SQL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactLibraryIds) for existing in logger.filters):
            logger.addFilter(RedactLibraryIds())
