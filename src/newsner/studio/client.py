"""Connecting to Label Studio: URL and key from the environment, the settings or the local studio."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from newsner.config import Settings
from newsner.errors import StudioAuthError, StudioError
from newsner.studio.address import studio_url
from newsner.studio.server import STATE_DIR, LocalStudio

T = TypeVar("T")


@dataclass
class Connection:
    """An authenticated SDK client and the URL it talks to (the key is never kept here in clear)."""

    client: Any
    url: str

    def call(self, what: str, func: Callable[..., T], *args: Any, retries: int = 0, **kwargs: Any) -> T:
        """Run one SDK call; turn failures into `StudioError` naming the URL (never the key).

        Connection errors and 5xx are retried `retries` times with exponential backoff.
        """
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        for attempt in range(retries + 1):
            try:
                return func(*args, **kwargs)
            except ApiError as err:
                if err.status_code in (401, 403):
                    raise StudioAuthError(
                        f"Label Studio at {self.url} refused the API key (HTTP {err.status_code}) while trying to "
                        f"{what}; check LABEL_STUDIO_API_KEY"
                    ) from None
                if err.status_code is not None and err.status_code >= 500 and attempt < retries:
                    time.sleep(min(2**attempt, 30))
                    continue
                raise StudioError(
                    f"Label Studio at {self.url} answered HTTP {err.status_code} while trying to {what}"
                ) from None
            except (httpx.TransportError, OSError) as err:
                if attempt < retries:
                    time.sleep(min(2**attempt, 30))
                    continue
                raise StudioError(
                    f"cannot reach Label Studio at {self.url} to {what} ({type(err).__name__}); "
                    f"is it running? (`newsner studio start` for the local one)"
                ) from None
        raise AssertionError("unreachable")

    def get_json(self, what: str, path: str) -> Any:
        """GET an API path the SDK has no call for (e.g. `api/tasks/7/drafts`), through the SDK's own client."""
        from label_studio_sdk.core.api_error import ApiError

        def fetch() -> Any:
            response = self.client._client_wrapper.httpx_client.request(path, method="GET")
            if response.status_code >= 400:
                raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=response.text)
            return response.json()

        return self.call(what, fetch)


def is_local(url: str, settings: Settings | None = None, state_dir: Path | None = None) -> bool:
    """True when `url` is the project's own local studio: newsner started a studio there (its state says so).

    A Label Studio on a loopback address that newsner did not start (Docker, another project) is a team
    server like any other: it needs `LABEL_STUDIO_API_KEY`, and the local admin token never goes to it.
    """
    if state_dir is None and settings is None:
        return False
    studio = LocalStudio(state_dir=state_dir or settings.root / STATE_DIR)
    return studio.recorded_url() == url.rstrip("/")


def api_key(settings: Settings, url: str, state_dir: Path | None = None) -> str:
    """`LABEL_STUDIO_API_KEY`, or the local studio's admin token when `url` is the project's own local studio."""
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if key:
        return key
    if is_local(url, settings, state_dir):
        return LocalStudio(state_dir=state_dir or settings.root / STATE_DIR).credentials()["admin"]["token"]
    raise StudioError(
        f"no API key for {url}: set LABEL_STUDIO_API_KEY (Account & Settings in Label Studio), "
        f"or run `newsner studio start` for a local studio"
    )


def connect(
    settings: Settings, *, url: str | None = None, key: str | None = None, timeout: float = 120.0, check: bool = True
) -> Connection:
    """An SDK client for the configured Label Studio; with `check`, verifies the key first."""
    from label_studio_sdk import LabelStudio

    url = (url or studio_url(settings)).rstrip("/")
    client = LabelStudio(base_url=url, api_key=key or api_key(settings, url), timeout=timeout)
    connection = Connection(client=client, url=url)
    if check:
        connection.call("check the API key", client.users.whoami)
    return connection
