"""Error classes shared by every layer; each says whether trying again could help."""


class HomeEditorError(Exception):
    """Base of the app's errors. `str(error)` is safe to show to the user."""

    retryable = False


class PermanentError(HomeEditorError):
    """Trying again cannot help (a rejected key, a refused request): fail at once."""


class BadInputError(PermanentError):
    """The input itself is unusable (not an image, truncated, too large): fail at once, never retry."""


class TransientError(HomeEditorError):
    """Something that may work on a later attempt (a busy service, a timeout)."""

    retryable = True


class StorageError(HomeEditorError):
    """A file could not be stored, read or deleted."""

    retryable = True


class ConfigError(HomeEditorError):
    """The configuration is unusable; reported at start-up and in the page."""


class UploadRefusedError(HomeEditorError):
    """A drop cannot be taken at all (too many uploads already on their way to the library)."""
