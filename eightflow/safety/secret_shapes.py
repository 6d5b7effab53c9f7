"""The shapes of secrets the sanitizer knows: one row per shape, in the order they run.

Each :class:`Shape` is a regex with the literals every match must contain (``needles``):
the sanitizer runs a shape only when one of its needles is in the text, because a substring
test is ~100x cheaper than a regex scan and the sanitizer runs on every trace row and
output cell. ``needles=None``: the shape always runs (keep those few and fast). ``folded``:
the needles are tested against the lower-cased text (case-insensitive shapes).

``group`` names the part of a match that is the secret; the rest of the match is kept
(``postgresql://app:[REDACTED]@db``). ``check``: a match whose secret fails it is left
alone (``Basic <x>`` is a credential only if ``<x>`` decodes to ``user:password``).

Every shape has a positive and a near-miss example in
tests/security/test_sanitizer_knows_secrets.py.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shape:
    name: str
    pattern: re.Pattern[str]
    needles: tuple[str, ...] | None
    folded: bool = False
    group: int = 0
    check: Callable[[str], bool] | None = None
    also: tuple[str, ...] = ()  # and one of these literals must be in the text too


def _basic_credential(value: str) -> bool:
    """``value`` is base64 of ``user:password`` (what an HTTP Basic header carries)."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in text and text.isprintable()


def _mixed_token(value: str) -> bool:
    """Upper case, lower case and a digit or ``/+``: a key, not a word or a hex digest."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


def _letters_and_digits(value: str) -> bool:
    return not value.isdigit() and not value.isalpha()


def _s(name: str, regex: str, *needles: str, flags: int = 0, **kw: Any) -> Shape:
    return Shape(name, re.compile(regex, flags), needles, **kw)


_PEM = (
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
)

# Provider keys: the whole match is the secret. Order matters only where shapes overlap
# (the PEM block first: it holds base64 that other shapes would cut into pieces).
PROVIDER_SHAPES: tuple[Shape, ...] = (
    _s(
        "pem private key", _PEM, "PRIVATE KEY", flags=re.DOTALL
    ),  # an unterminated block: to the end
    _s("openai/anthropic/openrouter", r"sk-(?:proj-|ant-|or-v1-)?[A-Za-z0-9_\-]{16,}", "sk-"),
    _s("stripe", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b", "_live_", "_test_"),
    _s("stripe webhook", r"\bwhsec_[A-Za-z0-9]{20,}\b", "whsec_"),
    _s(
        "aws key id",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b",
        *("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
    ),
    _s("google api key", r"\bAIza[0-9A-Za-z_\-]{35}\b", "AIza"),
    _s("google oauth token", r"\bya29\.[0-9A-Za-z_\-]{20,}", "ya29."),
    _s("google oauth client secret", r"\bGOCSPX-[A-Za-z0-9_\-]{28}", "GOCSPX-"),
    _s("github", r"\bgh[pousr]_[A-Za-z0-9]{30,}\b", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    _s("github fine-grained", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b", "github_pat_"),
    _s("gitlab personal", r"\bglpat-[A-Za-z0-9_\-]{20,}\b", "glpat-"),
    _s(
        "gitlab other tokens",
        r"\bgl(?:ptt|dt|rt|soat|ft|imt|agent|oas)-[A-Za-z0-9_\-]{20,}",
        *("glptt-", "gldt-", "glrt-", "glsoat-", "glft-", "glimt-", "glagent-", "gloas-"),
    ),
    _s("slack token", r"\bxox[abprse]-[A-Za-z0-9\-]{10,}\b", "xox"),
    _s("slack app token", r"\bxapp-\d-[A-Za-z0-9\-]{20,}", "xapp-"),
    _s(
        "slack webhook",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+",
        "https://hooks.slack.com/services/",
    ),
    _s(
        "discord webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]+",
        "discord",
    ),
    # A Discord bot token: base64 of a snowflake id (starts M, N or O), a timestamp, an HMAC.
    # No leading \b: it would cost the regex its first-character scan.
    _s(
        "discord bot token",
        r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}(?![A-Za-z0-9_\-])",
        ".",
    ),
    _s("twilio api key", r"\bSK[0-9a-fA-F]{32}\b", "SK"),
    _s("notion integration", r"\bsecret_[A-Za-z0-9]{43}\b", "secret_"),
    _s("notion token", r"\bntn_[A-Za-z0-9]{40,}\b", "ntn_"),
    _s("hugging face", r"\bhf_[A-Za-z0-9]{30,}\b", "hf_"),
    _s("groq", r"\bgsk_[A-Za-z0-9]{30,}\b", "gsk_"),
    _s("prefect cloud", r"\bpnu_[A-Za-z0-9]{30,}\b", "pnu_"),
    _s("xai", r"\bxai-[A-Za-z0-9]{30,}\b", "xai-"),
    _s("perplexity", r"\bpplx-[A-Za-z0-9]{30,}\b", "pplx-"),
    _s("replicate", r"\br8_[A-Za-z0-9]{30,}\b", "r8_"),
    _s("langsmith", r"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b", "lsv2_"),
    _s("npm", r"\bnpm_[A-Za-z0-9]{30,}\b", "npm_"),
    _s("pypi", r"\bpypi-[A-Za-z0-9_\-]{50,}", "pypi-"),
    _s("digitalocean", r"\bdop_v1_[a-f0-9]{64}\b", "dop_v1_"),
    _s(
        "shopify", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", "shpat_", "shpss_", "shpca_", "shppa_"
    ),
    _s("databricks", r"\bdapi[a-f0-9]{32}\b", "dapi"),
    _s("sendgrid", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", "SG."),
    _s("mailgun", r"\bkey-[a-f0-9]{32}\b", "key-"),
    _s("telegram bot", r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}\b", ":AA"),
    _s("atlassian", r"\bATATT3[A-Za-z0-9_\-=]{100,}", "ATATT3"),
    _s("linear", r"\blin_api_[A-Za-z0-9]{40}\b", "lin_api_"),
    _s("heroku", r"\bHRKU-[A-Za-z0-9_\-]{40,}", "HRKU-"),
    _s("doppler", r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}", "dp."),
    _s("vault", r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}", "hvs.", "hvb.", "hvr."),
    _s("terraform cloud", r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}", ".atlasv1."),
    _s("postman", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", "PMAK-"),
    _s("sentry", r"\bsntry[su]_[A-Za-z0-9+/=_\-]{40,}", "sntrys_", "sntryu_"),
    _s("grafana", r"\b(?:glsa|glc)_[A-Za-z0-9+/=_\-]{32,}", "glsa_", "glc_"),
    _s("new relic", r"\bNR(?:AK|II|JS)-[A-Za-z0-9]{20,}", "NRAK-", "NRII-", "NRJS-"),
    _s("square", r"\bsq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}", "sq0atp-", "sq0csp-"),
    _s("facebook", r"\bEAA[ABCG][A-Za-z0-9]{80,}", "EAAA", "EAAB", "EAAC", "EAAG"),
    _s("firebase fcm", r"\bAAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{100,}", ":APA91b"),
    _s("supabase", r"\bsbp_[a-f0-9]{40}\b", "sbp_"),
    _s("planetscale", r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-=.]{32,}", "pscale_"),
    _s("pulumi", r"\bpul-[a-f0-9]{40}\b", "pul-"),
    _s("age secret key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b", "AGE-SECRET-KEY-1"),
    _s("azure ad client secret", r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}", "Q~"),
    _s(
        "fly.io",
        r"\b(?:FlyV1 fm[12]_[A-Za-z0-9+/=_\-]{40,}|fo1_[A-Za-z0-9_\-]{40,})",
        "FlyV1 ",
        "fo1_",
    ),
    _s("dropbox", r"\bsl\.[A-Za-z0-9_\-]{130,}", "sl."),
    _s("figma", r"\bfigd_[A-Za-z0-9_\-]{40,}", "figd_"),
    _s("airtable", r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b", "pat"),
    _s(
        "jwt",
        r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b",
        "eyJ",
    ),
    # eightflow's own server auth string (user:<48 hex>, see eightflow/server/auth.py).
    _s("user:48-hex auth string", r":([0-9a-f]{48})(?![0-9a-fA-F])", ":", group=1),
    # An AWS secret access key: 40 characters of base64, named as a secret nearby.
    _s(
        "aws secret key after 'secret'",
        r"(?i:\b(?:aws|secret)[\w-]*)[^\n]{0,40}?(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})"
        r"(?![A-Za-z0-9/+=])",
        "aws",
        "secret",
        folded=True,
        group=1,
        check=_mixed_token,
    ),
    # A bare 32-hex string is how Azure (and Twilio, Databricks...) keys look. It always runs:
    # ASCII look-arounds and a check of the match scan ~3x faster than \b and lookaheads.
    Shape(
        "32 hex (azure, twilio auth token)",
        re.compile(r"(?<![0-9A-Za-z_])[0-9a-fA-F]{32}(?![0-9A-Za-z_])"),
        None,
        check=_letters_and_digits,
    ),
)

# Credentials in context (a URL, a header, an assignment): the value goes, the name stays.
CONTEXT_SHAPES: tuple[Shape, ...] = (
    _s(
        "url credentials",
        r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)([^\s@/'\"]+)(@)",
        "://",
        folded=True,
        group=2,
    ),
    _s(
        "azure connection string / sas",
        r"(?i)\b(AccountKey=|SharedAccessKey=|[?&]sig=)([^;&\s'\"]+)",
        *("accountkey=", "sharedaccesskey=", "sig="),
        folded=True,
        group=2,
    ),
    _s(
        "authorization header",
        r"(?i)\b(authorization|x-api-key|api[-_]?key|proxy-authorization"
        r"|ocp-apim-subscription-key)([\"']?\s*[:=]\s*[\"']?)"
        r"((?:(?:bearer|basic|token)\s+)?[^\s\"',}]+)",
        "authorization",
        "api",
        "ocp-apim",
        folded=True,
        group=3,
    ),
    _s(
        "secret assignment",
        r"(?i)([\"']?\b[\w.\-]*(?:secret(?!ary)|passw(?:or)?d|\bpwd|token|api[_\-]?key"
        r"|access[_\-]?key|private[_\-]?key|credential)[\w.\-]*[\"']?\s*[:=]\s*)([\"']?)"
        r"(?!\[REDACTED\])(?=[^\s\"',}]*[A-Za-z])([^\s\"',}]{6,})",
        *("secret", "passw", "pwd", "token", "api", "access", "private", "credential"),
        folded=True,
        group=3,
        also=(":", "="),
    ),
    _s(
        "bearer token",
        r"(?i)\bbearer\s+([A-Za-z0-9_\-\.=:/+]{12,})",
        "bearer",
        folded=True,
        group=1,
    ),
    _s(
        "basic credentials",
        r"(?i)\bbasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])",
        "basic",
        folded=True,
        group=1,
        check=_basic_credential,
    ),
)

SHAPES: tuple[Shape, ...] = PROVIDER_SHAPES + CONTEXT_SHAPES
