"""Typed errors. The library raises these; the CLI turns them into `Error: …` and exit code 1."""

from __future__ import annotations


class NewsnerError(Exception):
    """Base class of every error newsner raises on purpose.

    The message says what is wrong, where (file:line, task id, offset) and what to do.
    """


class ConfigError(NewsnerError):
    """`newsner.toml` is missing, unreadable or does not match `schemas/config.schema.json`."""


class InputError(NewsnerError):
    """An input file or record is unreadable or malformed."""


class ValidationError(NewsnerError):
    """Records do not satisfy their schema or a cross-field rule.

    `problems` holds one `file:line: [path] message` string per problem.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def __reduce__(self) -> tuple:  # raised on a worker process, it reaches the caller whole
        return type(self), (self.args[0], self.problems)


class ModelError(NewsnerError):
    """A spaCy pipeline cannot be loaded or lacks what is needed."""


class StudioError(NewsnerError):
    """Label Studio is unreachable, refuses the request or returns something unexpected."""


class SplitError(NewsnerError):
    """The train/test split cannot be made (for example a split would be empty)."""


class PublishError(NewsnerError):
    """The dataset cannot be written or uploaded."""


class StudioAuthError(StudioError):
    """Label Studio refused the API key; retrying cannot help."""


class OutputError(NewsnerError):
    """An output path that newsner must not write: a folder it did not make, the project itself."""
