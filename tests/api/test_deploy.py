"""Deployment files: docker-compose validates; the image and compose use the real commands."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from api_helpers import REPO, docker_compose_command


def test_compose_file_validates():
    command = docker_compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run([*command, "config", "-q"], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_compose_services():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "dask-scheduler", "dask-worker"} <= set(services)
    for name in ("api", "worker", "postgres"):
        assert "healthcheck" in services[name], name
    assert "pgdata" in compose["volumes"]
    assert services["dask-worker"]["command"][:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert services["dask-scheduler"]["command"][:2] == ["dask", "scheduler"]
    assert services["worker"]["command"][:2] == ["coalition", "worker"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and 'pip install ".[postgres,dask]"' in dockerfile
