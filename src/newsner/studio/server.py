"""The local Label Studio (`newsner studio start|stop|status|add-annotator`).

Runs `label-studio` from the `studio` extra with its data in `.newsner/studio/`, bound to 127.0.0.1,
signup by invite only, Sentry and version checks off. Generated credentials are stored with mode
0600 in `.newsner/studio/credentials.json`; they are never printed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsner.errors import StudioError
from newsner.studio.address import is_loopback, studio_url

STATE_DIR = Path(".newsner/studio")
CHILD_ENV_DROP = ("USERNAME", "PASSWORD", "USER_TOKEN", "PORT", "HOST", "LABEL_STUDIO_API_KEY")


@dataclass
class LocalStudio:
    """A Label Studio server whose data lives in `state_dir`."""

    state_dir: Path = STATE_DIR
    host: str = "127.0.0.1"
    port: int = 8080
    # the files newsner keeps beside the server's data (set from state_dir)
    credentials_path: Path = field(init=False, repr=False)  # admin and annotator logins, 0600
    pid_path: Path = field(init=False, repr=False)
    log_path: Path = field(init=False, repr=False)
    url_path: Path = field(init=False, repr=False)  # where newsner started it: the local admin key goes only there

    def __post_init__(self) -> None:
        for name, file in (
            ("credentials", "credentials.json"),
            ("pid", "server.pid"),
            ("log", "server.log"),
            ("url", "server.url"),
        ):
            setattr(self, f"{name}_path", self.state_dir / file)

    @classmethod
    def for_settings(cls, settings: Any) -> LocalStudio:
        """The local studio of a project (data in `<root>/.newsner/studio/`); refuses a remote URL."""
        url = studio_url(settings)  # refuses user-info tricks
        if not is_loopback(url):
            raise StudioError(
                f"{url} is not a loopback address; `newsner studio` only manages a Label Studio on "
                f"this machine, bound to 127.0.0.1"
            )
        parsed = urlsplit(url)
        host = parsed.hostname or "127.0.0.1"
        return cls(
            state_dir=settings.root / STATE_DIR,
            host="127.0.0.1" if host == "localhost" else host,
            port=parsed.port or 8080,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def recorded_url(self) -> str | None:
        """The address this studio was started at (newsner's own state), or None when it never was."""
        try:
            return self.url_path.read_text().strip() or None
        except OSError:
            return None

    def credentials(self) -> dict[str, Any]:
        """The stored admin (and annotator) credentials; created on first use."""
        if self.credentials_path.exists():
            return json.loads(self.credentials_path.read_text())
        creds = {
            "admin": {
                "email": "admin@newsner.local",
                "password": secrets.token_urlsafe(18),
                "token": secrets.token_hex(20),
            },
            "annotators": {},
        }
        self.save_credentials(creds)
        return creds

    def save_credentials(self, creds: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.credentials_path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(creds, handle, indent=2)
        os.replace(self.credentials_path.with_suffix(".tmp"), self.credentials_path)
        os.chmod(self.credentials_path, 0o600)

    def pid(self) -> int | None:
        """The server's pid when it is running, else None."""
        try:
            pid = int(self.pid_path.read_text())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=timeout) as response:
                return json.loads(response.read()).get("status") == "UP"
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def start(self, *, timeout: float = 180.0, template: Path | None = None) -> None:
        """Start the server and wait until `/health` says UP.

        `template`: a pre-migrated data folder copied in when the data folder does not exist yet.
        Raises `StudioError` when label-studio is not installed, the port is busy, or it dies.
        """
        if self.pid() and self.healthy():
            return
        with socket.socket() as probe:
            if probe.connect_ex((self.host, self.port)) == 0:
                raise StudioError(
                    f"port {self.port} on {self.host} is busy; stop what runs there or set [studio] url to another port"
                )
        beside = Path(sys.executable).parent / "label-studio"
        executable = str(beside) if beside.exists() else shutil.which("label-studio")
        if executable is None:
            raise StudioError("label-studio is not installed; install it with `newsner studio install`")
        data_dir = self.state_dir / "data"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)  # the data folder holds every API token in clear: owner only
        if template is not None and not data_dir.exists():
            shutil.copytree(template, data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        self.url_path.write_text(self.url + "\n")
        creds = self.credentials()
        env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_DROP}
        env.update(
            {
                "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir.resolve()),
                "LABEL_STUDIO_USERNAME": creds["admin"]["email"],
                "LABEL_STUDIO_PASSWORD": creds["admin"]["password"],
                "LABEL_STUDIO_USER_TOKEN": creds["admin"]["token"],
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
                "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
                "LATEST_VERSION_CHECK": "false",
                "SENTRY_DSN": "",
                "FRONTEND_SENTRY_DSN": "",
                "COLLECT_ANALYTICS": "false",
            }
        )
        log = self.log_path.open("ab")
        process = subprocess.Popen(
            [executable, "start", "--no-browser", "--internal-host", self.host, "--port", str(self.port), "--debug"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid_path.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StudioError(f"Label Studio exited with code {process.returncode}; see {self.log_path}")
            if self.healthy():
                return
            time.sleep(1.0)
        self.stop()
        raise StudioError(
            f"Label Studio did not answer on {self.url}/health within {timeout:.0f} s; see {self.log_path}"
        )

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server (SIGTERM to its process group); True when one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.2)
        if self.pid() is not None:
            os.killpg(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)
        return True

    def login(self, email: str) -> dict[str, Any]:
        """One person's login (address, e-mail, password), to hand over to that person alone.

        The maintainer's own account (the admin) is known too.
        """
        creds = self.credentials()
        if email.strip().lower() == creds["admin"]["email"]:
            return {
                "url": f"{self.url}/user/login/",
                "email": creds["admin"]["email"],
                "password": creds["admin"]["password"],
            }
        account = creds["annotators"].get(email)
        if account is None:
            raise StudioError(
                f"no account {email} in {self.credentials_path}; add them with "
                f"`newsner studio add-annotator {email}` (or add-reviewer)"
            )
        return {"url": f"{self.url}/user/login/", "email": email, "password": account["password"]}

    def add_annotator(self, email: str) -> dict[str, Any]:
        """Create an annotator account by invite-link signup; store its password and token (0600)."""
        creds = self.credentials()
        if email in creds["annotators"]:
            return creds["annotators"][email]
        password = secrets.token_urlsafe(14)
        account = signup_annotator(self.url, creds["admin"]["token"], email, password)
        creds["annotators"][email] = {"password": password, **account}
        self.save_credentials(creds)
        return creds["annotators"][email]


def signup_annotator(url: str, admin_token: str, email: str, password: str) -> dict[str, Any]:
    """Sign up `email` through the organisation's invite link; return {"id", "token"}."""
    import http.cookiejar
    import re
    import urllib.parse

    def request(opener: Any, path: str, data: dict | None = None, headers: dict | None = None) -> Any:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url + path, data=body, headers=headers or {})
        try:
            return opener.open(req, timeout=30)
        except urllib.error.HTTPError as err:
            raise StudioError(f"{url}{path.split('?')[0]}: HTTP {err.code} while creating annotator {email}") from None
        except urllib.error.URLError as err:
            raise StudioError(f"cannot reach Label Studio at {url} ({err.reason}); is it running?") from None

    admin = urllib.request.build_opener()
    invite = json.loads(request(admin, "/api/invite", headers={"Authorization": f"Token {admin_token}"}).read())
    token = urllib.parse.parse_qs(urllib.parse.urlparse(invite["invite_url"]).query)["token"][0]
    jar = http.cookiejar.CookieJar()
    user = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = request(user, f"/user/signup/?token={token}").read().decode()
    csrf = next((c.value for c in jar if c.name == "csrftoken"), None)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    form = {"email": email, "password": password, "csrfmiddlewaretoken": match.group(1) if match else csrf or ""}
    request(user, f"/user/signup/?token={token}", form, {"Referer": f"{url}/user/signup/", "X-CSRFToken": csrf or ""})
    me = json.loads(request(user, "/api/current-user/whoami").read())
    if me.get("email") != email:
        raise StudioError(f"signing up annotator {email} failed (the server did not log the new user in)")
    key = json.loads(request(user, "/api/current-user/token").read())
    return {"id": me["id"], "token": key.get("token") or key.get("detail")}


def studio_requirement() -> str:
    """The pinned Label Studio requirement of newsner's `studio` extra (e.g. `label-studio==1.23.2`)."""
    from importlib.metadata import requires

    for requirement in requires("newsner") or []:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker and "studio" in marker and spec.strip().startswith("label-studio"):
            return spec.strip()
    raise StudioError("this newsner installation does not declare the studio extra; reinstall newsner")


def install_server(timeout: float = 1800.0) -> str:
    """Install the Label Studio server (the `studio` extra) into this Python environment; return the requirement.

    Runs pip beside the running interpreter, so `newsner studio start` finds it.
    """
    requirement = studio_requirement()
    command = [sys.executable, "-m", "pip", "install", "--quiet", requirement]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise StudioError(
            f"installing {requirement} took longer than {timeout:.0f} s; run: {' '.join(command)}"
        ) from None
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise StudioError(f"installing {requirement} failed (pip exit {result.returncode}):\n{tail}")
    return requirement
