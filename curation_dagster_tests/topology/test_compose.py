"""docker-compose.yml, .env.example, deploy/ and the Dockerfile agree with each other and with the code.

`docker-compose config` (Debian's docker-compose 1.29, installed by scripts/install-system-deps.sh)
is the real compose parser: it validates the file, interpolates .env.example and prints the
resolved services. It needs no Docker engine.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "user_code", "webserver", "daemon", "label-studio"}

#: Variables the template must list (issue 5), besides every one the code and the config read.
TEMPLATE_VARS = {
    "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD", "DAGSTER_POSTGRES_HOST", "DAGSTER_POSTGRES_DB",
    "DAGSTER_POSTGRES_PORT", "DAGSTER_DEPLOYMENT",
    "SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY",
    "SNOWFLAKE_PRIVATE_KEY_PASSWORD", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE", "SNOWFLAKE_SCHEMA",
    "SNOWFLAKE_ROLE", "CURATION_SOURCE_TABLE", "CURATION_SOURCE_COLUMN_MAPPING",
    "CURATION_ALERT_WEBHOOK_URL", "SLACK_BOT_TOKEN", "CURATION_ALERT_SLACK_CHANNEL",
}
#: Set by the images, not by the operator.
IMAGE_VARS = {"DAGSTER_HOME"}
SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|PRIVATE_KEY)$")
PLACEHOLDERS = {"", "change-me"}
SECRET_SHAPES = [
    re.compile(r"xox[abprs]-[0-9A-Za-z-]{8,}"),          # Slack tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),  # PEM keys
    re.compile(r"AKIA[0-9A-Z]{16}"),                    # AWS access keys
    re.compile(r"\b(sk|ghp|gho|glpat)[-_][0-9A-Za-z]{16,}"),
    re.compile(r"hooks\.slack\.com/services/"),
    re.compile(r"[0-9A-Za-z+/=_-]{32,}"),               # any long opaque string
]


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {line!r}"
        assert key not in out, f"{key} listed twice"
        out[key] = value
    return out


def compose_config(*extra_args: str, env_file: str = ".env.example", env: dict | None = None):
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: run scripts/install-system-deps.sh")
    # No Docker engine is needed or reached: point DOCKER_HOST at nothing to be sure.
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER_HOST": "unix:///nonexistent.sock",
               "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
    return subprocess.run([exe, "-f", "docker-compose.yml", "--env-file", env_file, "config", *extra_args],
                          cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def config():
    res = compose_config()
    assert res.returncode == 0, res.stderr
    return yaml.safe_load(res.stdout)


@pytest.fixture(scope="module")
def template():
    return read_env_file(ROOT / ".env.example")


def env_refs_in_dagster_yaml() -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"env"}:
                found.add(node["env"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text()))
    return found


def env_refs_in_code() -> set[str]:
    pattern = re.compile(r"[\"']((?:SNOWFLAKE|CURATION|DAGSTER|SLACK|LABEL_STUDIO)_[A-Z0-9_]+)[\"']")
    return {m for p in (ROOT / "curation_dagster").rglob("*.py") for m in pattern.findall(p.read_text())}


def test_compose_file_parses_with_the_services(config):
    assert set(config["services"]) == SERVICES


def test_webserver_is_published_on_localhost_only(config):
    services = config["services"]
    ports = services["webserver"]["ports"]
    assert ports, "the UI must be reachable"
    for port in ports:
        spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port['published']}:{port['target']}"
        assert spec.startswith("127.0.0.1:3000:3000"), spec
    # Label Studio (reviewers' UI) too, on localhost; nothing else is published on the host
    # (PostgreSQL and the gRPC server stay on the compose network).
    for port in services["label-studio"]["ports"]:
        spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port['published']}:{port['target']}"
        assert spec.startswith("127.0.0.1:8080:8080"), spec
    assert [s for s in SERVICES - {"webserver", "label-studio"} if services[s].get("ports")] == []


def test_label_studio_service_keeps_its_data_and_gets_the_pipeline_token(config):
    ls = config["services"]["label-studio"]
    assert ls["image"].startswith("heartexlabs/label-studio:1.23")
    assert any(v.endswith(":/label-studio/data:rw") or v.endswith(":/label-studio/data") for v in ls["volumes"])
    assert "--enable-legacy-api-token" in ls["command"]
    # the token Label Studio creates for its admin is the key the pipeline calls it with
    assert ls["environment"]["LABEL_STUDIO_USER_TOKEN"] == config["services"]["user_code"]["environment"][
        "LABEL_STUDIO_API_KEY"]
    assert config["services"]["user_code"]["environment"]["LABEL_STUDIO_URL"] == "http://label-studio:8080"


def test_postgres_has_a_healthcheck_that_gates_the_dagster_services(config):
    pg = config["services"]["postgres"]
    assert pg["image"] == "postgres:15"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data:rw") or v.endswith(":/var/lib/postgresql/data")
               for v in pg["volumes"]), pg["volumes"]
    for name in ("user_code", "webserver", "daemon"):
        assert config["services"][name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
    # The webserver and the daemon wait for the code server to answer gRPC health checks.
    assert "grpc-health-check" in config["services"]["user_code"]["healthcheck"]["test"]
    for name in ("webserver", "daemon"):
        assert config["services"][name]["depends_on"]["user_code"] == {"condition": "service_healthy"}, name


def test_processes_and_images(config):
    s = config["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, flags=re.M | re.I))
    for name in ("user_code", "webserver", "daemon"):
        assert s[name]["build"]["target"] in targets, (name, targets)
    assert s["user_code"]["build"]["target"] == "user_code"
    assert s["webserver"]["command"] == ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w",
                                         "deploy/workspace.yaml"]
    assert s["daemon"]["command"] == ["dagster-daemon", "run", "-w", "deploy/workspace.yaml"]
    # The user code image: slim Python 3.11, CPU torch before the project, the gRPC server as its command.
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, flags=re.M)
    torch = dockerfile.index("pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")
    assert torch < dockerfile.index("pip install -c constraints.txt .")
    assert ('CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "curation_dagster.definitions"]'
            in dockerfile)
    assert "COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml" in dockerfile
    ws = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    assert ws["load_from"] == [{"grpc_server": {"host": "user_code", "port": 4000,
                                                "location_name": "curation_dagster"}}]
    # Data and exports live on volumes; compute logs are shared so the UI shows step output.
    targets_of = {v.split(":")[1] for v in s["user_code"]["volumes"]}
    assert {"/opt/dagster/data", "/opt/dagster/exports", "/opt/dagster/dagster_home/storage"} <= targets_of
    for name in ("webserver", "daemon"):
        assert any(":/opt/dagster/dagster_home/storage" in v for v in s[name]["volumes"]), name
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)


def test_environment_flows_from_the_env_file(config, template):
    s = config["services"]
    code_vars = env_refs_in_code() - IMAGE_VARS
    user_env = s["user_code"]["environment"]
    # The code location receives every variable it reads, with the value written in the env file.
    assert code_vars <= set(user_env), sorted(code_vars - set(user_env))
    for key, value in user_env.items():
        if key in template:
            assert str(value) == template[key], (key, value, template[key])
    # Instance storage settings reach every process that opens the instance (run workers included).
    pg_vars = env_refs_in_dagster_yaml()
    for name in ("user_code", "webserver", "daemon"):
        assert pg_vars <= set(s[name]["environment"]), name
    # Pipeline secrets stay in user_code.
    for name in ("webserver", "daemon"):
        assert not [k for k in s[name]["environment"] if k.startswith(("SNOWFLAKE_", "SLACK_"))], name
    # DAGSTER_DEPLOYMENT is passed through (the shell overrides the env file, as compose documents).
    res = compose_config(env={"DAGSTER_DEPLOYMENT": "local"})
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout)["services"]["user_code"]["environment"]["DAGSTER_DEPLOYMENT"] == "local"


def test_missing_password_is_refused(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    res = compose_config(env_file=str(empty))
    assert res.returncode != 0 and "DAGSTER_POSTGRES_PASSWORD" in res.stderr, (res.returncode, res.stderr)


def test_env_example_lists_every_variable(template):
    compose_refs = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    needed = TEMPLATE_VARS | compose_refs | env_refs_in_dagster_yaml() | (env_refs_in_code() - IMAGE_VARS)
    assert {"DAGSTER_POSTGRES_PASSWORD", "CURATION_DATA_DIR", "SNOWFLAKE_ACCOUNT"} <= needed  # the scans work
    assert needed <= set(template), sorted(needed - set(template))


def test_env_example_holds_placeholders_only(template):
    for key, value in template.items():
        if SECRET_NAME.search(key):
            assert value in PLACEHOLDERS, f"{key} must be empty or a placeholder, not {value!r}"
        for shape in SECRET_SHAPES:
            assert not shape.search(value), f"{key}={value!r} looks like a real secret"
        for host in re.findall(r"https?://([^/:\s]+)", value):
            # local, a placeholder domain, or a service of the compose network itself
            assert host in {"127.0.0.1", "localhost"} | SERVICES or host.endswith("example.com"), f"{key}: {host}"
    assert (ROOT / ".gitignore").read_text().splitlines().count(".env") == 1  # the real file is never committed
