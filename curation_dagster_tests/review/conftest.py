"""A real Label Studio server on 127.0.0.1 for the review tests.

Installed by scripts/install-label-studio.sh into its own virtual environment (.label-studio/venv,
a no-op once there), started with a fresh SQLite data dir, stopped by process group afterwards.
Reviewers are real accounts: the admin made at start-up, the others through the sign-up form.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300
PASSWORD = "review-pass-1"


@dataclass
class LabelStudioServer:
    url: str
    admin_email: str
    admin_token: str
    log: Path
    start_seconds: float
    install_seconds: float
    tokens: dict = field(default_factory=dict)

    def sign_up(self, email: str) -> str:
        """Create an account through Label Studio's sign-up page and return its API token."""
        if email in self.tokens:
            return self.tokens[email]
        s = requests.Session()
        s.get(f"{self.url}/user/signup/", timeout=30)
        resp = s.post(f"{self.url}/user/signup/", timeout=30,
                      data={"email": email, "password": PASSWORD, "csrfmiddlewaretoken": s.cookies.get("csrftoken")},
                      headers={"Referer": f"{self.url}/user/signup/"})
        resp.raise_for_status()
        token = s.get(f"{self.url}/api/current-user/token", timeout=30)
        assert token.ok, f"sign-up of {email} failed: {token.status_code} {token.text[:200]}"
        self.tokens[email] = token.json()["token"]
        return self.tokens[email]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    t0 = time.monotonic()
    install = subprocess.run([str(ROOT / "scripts" / "install-label-studio.sh")], capture_output=True, text=True,
                             timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    exe = install.stdout.strip().splitlines()[-1]
    install_s = time.monotonic() - t0

    data = tmp_path_factory.mktemp("label-studio")
    port, token, admin = _free_port(), secrets.token_hex(20), "admin@example.com"
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "LATEST_VERSION_CHECK": "false",
           "COLLECT_ANALYTICS": "false", "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "false"}
    log = data / "label-studio.log"
    t1 = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen([exe, "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
                                 "--username", admin, "--password", PASSWORD, "--user-token", token,
                                 "--enable-legacy-api-token"],
                                cwd=data, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/health", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - t1 > START_TIMEOUT_S:
                pytest.fail(f"Label Studio did not answer /health in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        server = LabelStudioServer(url, admin, token, log, time.monotonic() - t1, install_s, {admin: token})
        print(f"\n[label-studio] install/check {install_s:.1f} s, start to /health {server.start_seconds:.1f} s, {url}")
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
