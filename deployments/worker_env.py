"""The environment workers (and ``prefect deploy``) get: an allow-list, not the operator's
whole environment.

A worker runs flows that read hostile documents; whatever is in its environment is one bug
away from a model's prompt or a log. So it gets what it needs to run Python and Prefect,
eightflow's and litellm's settings, and the provider keys (``*_API_KEY`` and a few cloud
credential names litellm reads), and nothing else: no database URL, no server auth setting,
no unrelated tokens from the operator's shell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

KEEP_NAMES = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "PYTHONPATH",
     "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
     "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
     # cloud credentials litellm reads for Bedrock / Vertex
     "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION_NAME",
     "AWS_DEFAULT_REGION", "GOOGLE_APPLICATION_CREDENTIALS", "VERTEXAI_PROJECT",
     "VERTEXAI_LOCATION"}
)  # fmt: skip
KEEP_PREFIXES = ("EIGHTFLOW_", "LITELLM_", "LC_", "OTEL_", "PREFECT_")
# Prefect settings a worker must not carry: the server's own (its auth string, database).
DROP_PREFIXES = ("PREFECT_SERVER_", "PREFECT_API_DATABASE_")
PROVIDER_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*_(API_KEY|API_BASE|API_VERSION)$")


def kept(name: str) -> bool:
    """Whether a worker may inherit the variable ``name``."""
    if name.startswith(DROP_PREFIXES):
        return False
    return (
        name in KEEP_NAMES
        or name.startswith(KEEP_PREFIXES)
        or PROVIDER_VARIABLE.match(name) is not None
    )


def worker_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of ``environ``."""
    return {name: value for name, value in environ.items() if kept(name)}
