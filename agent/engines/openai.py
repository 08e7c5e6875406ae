"""Evaluate any served model: a ``Policy`` over an OpenAI-compatible ``/chat/completions`` endpoint.

Works with a vLLM or SGLang server, llama.cpp's server, or any service speaking the OpenAI chat
API. Each of the ``n`` replies to a conversation is its own request (``n=1``: not every server
supports ``n > 1``), sent by a bounded thread pool (``concurrency``). A request that fails with a
connection error, a timeout, HTTP 408/409/429 or a 5xx status is retried after an exponential
backoff (``backoff_s``, doubled each time, at most ``max_backoff_s``), up to ``max_retries`` times.
A sample whose request still fails, or that the server refuses (another 4xx), costs only that
sample: its reply is a ``FailedReply`` (an empty string, so the env scores it 0, carrying the
error), and ``OpenAIChatPolicy.stats`` counts it. The run goes on.

Only the standard library is used (``urllib``): the protocol is one JSON POST per sample.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from grpo_gym.rewards.types import Reply

from ..fieldhelp import help_text
from ..sampling import Conversation, SamplingConfig

RETRY_STATUS = frozenset({408, 409, 429})  # and every 5xx


@dataclass(frozen=True)
class OpenAIConfig:
    """Where the served model is and how to talk to it (the ``grpo-gym eval --engine openai`` flags)."""

    base_url: str = field(
        metadata=help_text("OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    )
    model: str = field(
        metadata=help_text("the served model's name, as the server's /models lists it")
    )
    api_key: str = field(
        default="", metadata=help_text("bearer token ('' = $OPENAI_API_KEY, or none)")
    )
    concurrency: int = field(default=8, metadata=help_text("requests in flight at once"))
    max_retries: int = field(
        default=3,
        metadata=help_text(
            "retries of a failed request (connection error, timeout, 408/409/429, 5xx)"
        ),
    )
    backoff_s: float = field(
        default=0.5,
        metadata=help_text("wait before the first retry; doubled for each further retry"),
    )
    max_backoff_s: float = field(default=30.0, metadata=help_text("longest wait between retries"))
    timeout_s: float = field(default=120.0, metadata=help_text("seconds one request may take"))
    seed: int | None = field(
        default=None,
        metadata=help_text(
            "per-request seed (seed + sample index); None = the server's own sampling"
        ),
    )

    def __post_init__(self) -> None:
        url = urlparse(self.base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(
                f"base_url {self.base_url!r} is not an http(s) URL: e.g. --base-url http://127.0.0.1:8000/v1"
            )
        if not self.model.strip():
            raise ValueError(
                "model is empty: pass --model with the name the server serves (GET /v1/models lists them)"
            )
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError(
                f"backoff_s and max_backoff_s must be >= 0, got {self.backoff_s}, {self.max_backoff_s}"
            )
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        return min(self.backoff_s * 2**retry, self.max_backoff_s)


class FailedReply(str):
    """The reply of a sample whose request failed for good: empty text plus the reason."""

    error: str

    def __new__(cls, error: str) -> FailedReply:
        reply = super().__new__(cls, "")
        reply.error = error
        return reply


@dataclass
class RequestStats:
    """Counts over the policy's lifetime (read them after an evaluation)."""

    samples: int = 0
    failed: int = 0  # samples whose request failed for good (scored as empty replies)
    timeouts: int = 0  # attempts that timed out (retried or not)
    retries: int = 0
    truncated: int = 0  # finish_reason == "length"
    completion_tokens: int = 0  # as the server's ``usage`` reports them
    errors: list[str] = field(default_factory=list)  # the first few distinct failure reasons


class ServerError(RuntimeError):
    """The server cannot be used at all (unreachable, or it does not serve the model)."""


class _Attempt(Exception):
    def __init__(self, message: str, *, retry: bool, timeout: bool = False) -> None:
        super().__init__(message)
        self.retry = retry
        self.timeout = timeout


class OpenAIChatPolicy:
    """``policy(conversations, n) -> list[str]`` through an OpenAI-compatible chat server."""

    def __init__(self, config: OpenAIConfig, sampling: SamplingConfig | None = None) -> None:
        self.config = config
        self.sampling = sampling or SamplingConfig()
        self.stats = RequestStats()
        self._lock = threading.Lock()
        self._api_key = config.api_key or os.environ.get("OPENAI_API_KEY", "")
        self._root = config.base_url.rstrip("/")
        self._issued = 0  # samples requested so far (the per-request seed offset)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def check_server(self) -> list[str]:
        """The served model names; raises ``ServerError`` (one line) if ``config.model`` is not one."""
        request = urllib.request.Request(f"{self._root}/models", headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as resp:
                names = [m.get("id", "") for m in json.load(resp).get("data", [])]
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ServerError(
                f"cannot list models at {self._root}/models ({exc}): is the server up, and is --base-url its API root (ending in /v1)?"
            ) from None
        if names and self.config.model not in names:
            raise ServerError(
                f"the server at {self._root} serves {names}, not {self.config.model!r}: pass one of those as --model"
            )
        return names

    def _body(self, conversation: Conversation, index: int, stop: Sequence[str] = ()) -> bytes:
        s = self.sampling
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": list(conversation),
            "n": 1,
            "max_tokens": s.max_new_tokens,
            "temperature": s.temperature,
        }
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API takes up to 4; the env cuts at all
        if s.top_p < 1:
            body["top_p"] = s.top_p
        if s.top_k > 0:
            body["top_k"] = s.top_k  # a vLLM / SGLang / llama.cpp extension of the OpenAI API
        if self.config.seed is not None:
            body["seed"] = self.config.seed + index
        return json.dumps(body).encode()

    def _attempt(self, body: bytes) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self._root}/chat/completions", data=body, headers=self._headers(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as resp:
                data = json.load(resp)
        except urllib.error.HTTPError as exc:
            retry = exc.code in RETRY_STATUS or exc.code >= 500
            raise _Attempt(f"HTTP {exc.code}: {_error_text(exc)}", retry=retry) from None
        except TimeoutError:
            raise _Attempt(
                f"timed out after {self.config.timeout_s:g} s", retry=True, timeout=True
            ) from None
        except urllib.error.URLError as exc:
            timeout = isinstance(exc.reason, TimeoutError)
            raise _Attempt(
                f"connection failed: {exc.reason}", retry=True, timeout=timeout
            ) from None
        except (OSError, ValueError) as exc:  # reset connections, bad JSON
            raise _Attempt(f"{type(exc).__name__}: {exc}", retry=True) from None
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise _Attempt(f"unexpected response {str(data)[:200]!r}", retry=False) from None
        return {
            "text": str(text),
            "truncated": choice.get("finish_reason") == "length",
            "tokens": int((data.get("usage") or {}).get("completion_tokens") or 0),
        }

    def _sample(self, conversation: Conversation, index: int, stop: Sequence[str] = ()) -> str:
        body = self._body(conversation, index, stop)
        timeouts, error, retries = 0, "", 0
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self.config.backoff(attempt - 1))
            retries = attempt
            try:
                out = self._attempt(body)
            except _Attempt as exc:
                error, timeouts = str(exc), timeouts + exc.timeout
                if not exc.retry:
                    break
                continue
            self._count(retries, timeouts, out=out)
            return Reply(out["text"], "length" if out["truncated"] else "stop")
        self._count(retries, timeouts, error=error)
        return FailedReply(error)

    def _count(
        self, retries: int, timeouts: int, *, out: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        with self._lock:
            st = self.stats
            st.samples += 1
            st.retries += retries
            st.timeouts += timeouts
            if out is not None:
                st.truncated += out["truncated"]
                st.completion_tokens += out["tokens"]
                return
            st.failed += 1
            if len(st.errors) < 5 and error not in st.errors:
                st.errors.append(error)

    def __call__(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> list[str]:
        """``n`` consecutive replies per conversation, in order, each a ``Reply`` with the server's
        finish reason; failed samples are ``FailedReply``. ``stop``: the envs' stop strings."""
        # seeds never repeat: each sample gets the next index
        start = self._issued
        self._issued += len(conversations) * n
        jobs = [(c, start + i * n + j) for i, c in enumerate(conversations) for j in range(n)]
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(jobs))) as pool:
            return list(pool.map(lambda job: self._sample(job[0], job[1], stop), jobs))


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode(errors="replace")
    except OSError:
        return exc.reason or ""
    try:
        err = json.loads(body).get("error")
        return str(err.get("message", err) if isinstance(err, dict) else err)[:200]
    except (ValueError, AttributeError):
        return body[:200]
