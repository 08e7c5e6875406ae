"""OpenAIChatPolicy against a stub OpenAI-compatible server on 127.0.0.1 started by each test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from grpo_gym.agent.engines.openai import FailedReply, OpenAIChatPolicy, OpenAIConfig, ServerError
from grpo_gym.agent.evaluate import evaluate
from grpo_gym.agent.sampling import SamplingConfig
from tests.fixture_envs import register

# reply(body, attempt_number) -> (status, payload or None for "hang past the timeout")
Behaviour = Callable[[dict[str, Any], int], tuple[int, dict[str, Any]]]


def _completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        ],
        "usage": {"completion_tokens": len(text)},
    }


class StubServer:
    """A tiny OpenAI-compatible server: GET /v1/models and POST /v1/chat/completions."""

    def __init__(self, behaviour: Behaviour, models: tuple[str, ...] = ("stub-model",)) -> None:
        self.behaviour = behaviour
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(
                    200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
                )

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append(body)
                    stub.headers.append(dict(self.headers))
                    attempt = len(stub.requests)
                status, payload = stub.behaviour(body, attempt)
                if status == 0:  # hang: the client times out
                    time.sleep(1.0)
                    return
                self._send(status, payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def serve() -> Iterator[Callable[..., StubServer]]:
    servers: list[StubServer] = []

    def start(behaviour: Behaviour, **kwargs: Any) -> StubServer:
        servers.append(StubServer(behaviour, **kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _user(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


def _echo(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
    return 200, _completion("echo: " + _user(body))


def _policy(url: str, **kwargs: Any) -> OpenAIChatPolicy:
    sampling = kwargs.pop(
        "sampling", SamplingConfig(max_new_tokens=16, temperature=0.7, top_p=0.9, top_k=5)
    )
    return OpenAIChatPolicy(
        OpenAIConfig(base_url=url, model="stub-model", backoff_s=0.01, **kwargs), sampling
    )


def test_replies_come_back_in_order_with_the_sampling_settings(serve) -> None:
    server = serve(_echo)
    policy = _policy(server.url, concurrency=4, api_key="secret", seed=7)
    convs = [
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"q{i}"}]
        for i in range(5)
    ]
    replies = policy(convs, n=3)
    assert replies == [f"echo: q{i}" for i in range(5) for _ in range(3)]
    assert (
        policy.stats.samples == 15
        and policy.stats.failed == 0
        and policy.stats.completion_tokens == 15 * len("echo: q0")
    )
    body = server.requests[0]
    assert body["model"] == "stub-model" and body["n"] == 1 and body["max_tokens"] == 16
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.7, 0.9, 5)
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert all(h.get("Authorization") == "Bearer secret" for h in server.headers)
    assert sorted(b["seed"] for b in server.requests) == list(range(7, 22))  # distinct per sample
    policy(convs[:1], n=2)
    assert sorted(b["seed"] for b in server.requests[15:]) == [22, 23]  # and across calls


def test_transient_errors_are_retried_with_backoff(serve) -> None:
    def flaky(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
        if attempt <= 2:
            return (503 if attempt == 1 else 429), {"error": {"message": "busy"}}
        return _echo(body, attempt)

    server = serve(flaky)
    policy = _policy(server.url, concurrency=1, max_retries=3)
    t0 = time.perf_counter()
    assert policy([[{"role": "user", "content": "hi"}]], n=1) == ["echo: hi"]
    assert time.perf_counter() - t0 >= 0.01 + 0.02  # waited backoff_s, then 2 * backoff_s
    assert len(server.requests) == 3
    assert (policy.stats.retries, policy.stats.failed) == (2, 0)


def test_a_failing_server_costs_those_samples_not_the_run(serve) -> None:
    def half_down(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
        if "doom" in _user(body):
            return 500, {"error": {"message": "model crashed"}}
        if "bad" in _user(body):
            return 400, {"error": {"message": "prompt too long"}}
        return _echo(body, attempt)

    server = serve(half_down)
    policy = _policy(server.url, max_retries=2)
    replies = policy([[{"role": "user", "content": c}] for c in ("ok", "doom", "bad")], n=2)
    assert replies[:2] == ["echo: ok", "echo: ok"]
    failed = replies[2:]
    assert all(isinstance(r, FailedReply) and r == "" for r in failed)
    assert (
        "HTTP 500: model crashed" in failed[0].error
        and "HTTP 400: prompt too long" in failed[2].error
    )
    assert sum("doom" in _user(b) for b in server.requests) == 2 * 3  # 1 try + 2 retries each
    assert sum("bad" in _user(b) for b in server.requests) == 2  # a 4xx is not retried
    assert (policy.stats.samples, policy.stats.failed, policy.stats.retries) == (6, 4, 4)


def test_timeouts_are_counted(serve) -> None:
    server = serve(lambda body, attempt: (0, {}) if "slow" in _user(body) else _echo(body, attempt))
    policy = _policy(server.url, timeout_s=0.2, max_retries=1)
    replies = policy(
        [[{"role": "user", "content": "slow"}], [{"role": "user", "content": "fast"}]], n=1
    )
    assert isinstance(replies[0], FailedReply) and "timed out" in replies[0].error
    assert replies[1] == "echo: fast"
    assert (policy.stats.failed, policy.stats.timeouts, policy.stats.retries) == (1, 2, 1)


def test_evaluate_scores_a_served_model_and_survives_errors(serve) -> None:
    register()

    def task(body: dict[str, Any]) -> int:  # "Task 123: write the letter a many times."
        return int(_user(body).split()[1].rstrip(":"))

    def letters(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
        if task(body) % 3 == 0:
            return 502, {"error": "bad gateway"}
        return 200, _completion("a" * 6, finish="length" if task(body) % 2 else "stop")

    server = serve(letters)
    policy = _policy(server.url, max_retries=0)
    report = evaluate(policy, "grpo_gym_test/Letter-v0", problems=12, n=2)
    (result,) = report.results
    tasks = [task(b) for b in server.requests]
    assert len(tasks) == policy.stats.samples == 24
    assert 0 < policy.stats.failed == sum(t % 3 == 0 for t in tasks) < 24  # both kinds happened
    assert result.pass_at_k[1] == pytest.approx(1 - policy.stats.failed / 24)
    assert result.errors == pytest.approx(policy.stats.failed / 24)  # failed samples are counted
    assert policy.stats.truncated == sum(t % 2 == 1 and t % 3 != 0 for t in tasks)


def test_check_server_names_the_problem(serve) -> None:
    server = serve(_echo, models=("other-model",))
    with pytest.raises(ServerError, match="serves \\['other-model'\\], not 'stub-model'"):
        _policy(server.url).check_server()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerError, match="is the server up"):
        _policy(f"http://127.0.0.1:{port}/v1", timeout_s=2).check_server()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "127.0.0.1:8000"}, "not an http"),
        ({"model": " "}, "model is empty"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout_s": 0}, "timeout_s"),
    ],
)
def test_config_errors(kwargs: dict[str, Any], message: str) -> None:
    args = {"base_url": "http://127.0.0.1:1/v1", "model": "m", **kwargs}
    with pytest.raises(ValueError, match=message):
        OpenAIConfig(**args)


def _letter_task(body: dict[str, Any]) -> int:  # "Task 123: write the letter a many times."
    return int(_user(body).split()[1].rstrip(":"))


def test_eval_cli_scores_a_served_model(serve, tmp_path, capsys) -> None:
    from grpo_gym.cli import main

    register()

    def letters(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
        return 200, _completion("aaaa" if _letter_task(body) % 2 else "bbbb")

    server = serve(letters)
    args = ["eval", "--engine", "openai", "--base-url", server.url, "--model", "stub-model"]
    args += ["--env", "grpo_gym_test/Letter-v0", "--problems", "8", "--n", "2", "--k", "1,2"]
    args += ["--temperature", "0.5", "--max-new-tokens", "9", "--seed", "3", "--concurrency", "3"]
    args += ["--api-key", "k", "--json-out", str(tmp_path / "r.json"), "--progress", "false"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "Letter-v0" in out and "server: 16 samples, 0 failed" in err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["provenance"]["model"]["name"] == f"stub-model at {server.url}"
    (result,) = data["results"]
    tasks = [_letter_task(b) for b in server.requests]
    assert len(tasks) == 16 and result["samples_per_problem"] == 2
    assert result["pass_at_k"]["1"] == pytest.approx(sum(t % 2 for t in tasks) / 16)
    body = server.requests[0]
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("stub-model", 9, 0.5)
    assert sorted(b["seed"] for b in server.requests) == list(range(3, 19))  # --seed seeds them
    assert all(h.get("Authorization") == "Bearer k" for h in server.headers)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "openai", "--model", "stub-model"], "--engine openai needs --base-url"),
        (["--engine", "openai", "--base-url", "URL"], "--engine openai needs --model NAME"),
        (["--base-url", "URL", "--model", "stub-model"], "--base-url is a setting of --engine"),
        (["--engine", "openai", "--base-url", "URL", "--model", "other"], "not 'other': pass one"),
    ],
)
def test_eval_cli_names_server_mistakes(serve, capsys, extra: list[str], message: str) -> None:
    from grpo_gym.cli import main

    server = serve(_echo)
    extra = [server.url if a == "URL" else a for a in extra]
    assert main(["eval", "--env", "grpo_gym_test/Letter-v0", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not server.requests


def test_training_refuses_the_openai_engine() -> None:
    from grpo_gym.agent.config import GRPOConfig

    with pytest.raises(ValueError, match="only evaluates"):
        GRPOConfig.from_dict({"sampling": {"engine": "openai"}})


def test_stop_strings_reach_the_server_and_finish_reasons_come_back(serve) -> None:
    def cut(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]]:
        return 200, _completion("So the answer is 4", finish="length" if attempt == 1 else "stop")

    server = serve(cut)
    policy = _policy(server.url, concurrency=1)
    replies = policy([[{"role": "user", "content": "q"}]], n=2, stop=("Question:", "</s>"))
    assert [r.finish_reason for r in replies] == ["length", "stop"]  # type: ignore[attr-defined]
    assert server.requests[0]["stop"] == ["Question:", "</s>"]
    policy([[{"role": "user", "content": "q"}]], n=1)
    assert "stop" not in server.requests[-1]  # no stop strings: none sent
