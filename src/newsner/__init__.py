"""newsner: raw news articles to a human-annotated named-entity dataset."""

from newsner.errors import NewsnerError

__version__ = "0.1.0"
__all__ = ["NewsnerError", "__version__"]
