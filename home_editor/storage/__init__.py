"""Where files live: the `Storage` protocol and its implementations (local files today)."""
