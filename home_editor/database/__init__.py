"""The server's durable truth: libraries, items and jobs in a SQL database (SQLite by default)."""
