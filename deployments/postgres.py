"""A local PostgreSQL 15 for the Prefect server: start the cluster, create role and database.

These machines have PostgreSQL 15 installed but not running. Used by tests and documented
in the README; needs root (as CI and these machines run).
"""

from __future__ import annotations

import shutil
import subprocess
import time


def _psql(sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -d {database} -tAc "{sql}"'],
        capture_output=True,
        text=True,
        check=False,
    )


def ensure_postgres(
    database: str = "eightflow",
    user: str = "eightflow",
    password: str = "eightflow",
    port: int = 5432,
    fresh: bool = False,
) -> str:
    """Start the local cluster if needed; return an asyncpg URL for Prefect."""
    if shutil.which("pg_ctlcluster") is None:
        raise RuntimeError("PostgreSQL is not installed (pg_ctlcluster not found)")
    subprocess.run(["pg_ctlcluster", "15", "main", "start"], capture_output=True, check=False)
    for _ in range(60):
        if _psql("SELECT 1").returncode == 0:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("PostgreSQL did not start (pg_ctlcluster 15 main start)")
    if _psql(f"SELECT 1 FROM pg_roles WHERE rolname='{user}'").stdout.strip() != "1":
        _psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}' CREATEDB")
    exists = _psql(f"SELECT 1 FROM pg_database WHERE datname='{database}'").stdout.strip() == "1"
    if exists and fresh:
        _psql(f"DROP DATABASE {database} WITH (FORCE)")
        exists = False
    if not exists:
        done = _psql(f"CREATE DATABASE {database} OWNER {user}")
        if done.returncode != 0:
            raise RuntimeError(f"could not create database {database}: {done.stderr}")
    return f"postgresql+asyncpg://{user}:{password}@127.0.0.1:{port}/{database}"


def drop_database(database: str) -> None:
    """Drop ``database`` if it exists (closing its connections)."""
    _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def stop_postgres() -> None:
    subprocess.run(["pg_ctlcluster", "15", "main", "stop"], capture_output=True, check=False)
