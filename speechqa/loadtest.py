"""`speechqa load URL`: simulated users asking through the app's HTTP API (gradio_client's `/ask`, or with
`api="openai"` the OpenAI-compatible `/v1/chat/completions`), bounded in count and time, against a server on
this machine. Prints requests/s, latency percentiles and errors."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from speechqa.stats import pct


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answers: list[dict[str, object]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    def pct(self, q: float) -> float:
        return pct(self.latencies_ms, q)

    def summary(self) -> str:
        rps = self.requests / self.seconds if self.seconds else 0.0
        p50 = statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")
        return (f"{self.users} users, {self.seconds:.0f} s: {self.requests} requests, {rps:.2f} req/s, "
                f"p50 {p50:.0f} ms, p95 {self.pct(0.95):.0f} ms, errors {len(self.errors)}")


Api = Literal["gradio", "openai"]
Ask = Callable[[str], Any]


def gradio_asker(url: str) -> Ask:
    """One user's `ask`: the app's Gradio endpoint `/ask`, which returns the answer's JSON."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    return lambda q: client.predict(q, api_name="/ask")


def chat_completions_url(url: str) -> str:
    """http://host:port/ or http://host:port/v1 -> http://host:port/v1/chat/completions."""
    base = url.rstrip("/")
    return (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"


def openai_asker(url: str, key: str = "", model: str = "") -> Ask:
    """One user's `ask`: a non-streamed `/v1/chat/completions` request; returns the completion (with its
    `citations`), or {"error": ...} for an HTTP error."""
    import httpx

    client = httpx.Client(timeout=300.0, headers={"Authorization": f"Bearer {key}"} if key else {})
    endpoint = chat_completions_url(url)

    def ask(q: str) -> Any:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": q}]}
        if model:
            body["model"] = model
        resp = client.post(endpoint, json=body)
        out = resp.json()
        if resp.status_code != 200:
            return {"error": f"HTTP {resp.status_code}: {out}"}
        return out if isinstance(out, dict) and out.get("choices") else {"error": f"no choices: {out}"}

    return ask


def run_load(url: str, questions: list[str], users: int = 8, seconds: float = 120.0,
             max_requests: int = 10_000, keep_answers: bool = False, api: Api = "gradio", key: str = "",
             model: str = "") -> LoadResult:
    """Each user loops: pick a question, ask it (`api`: the Gradio `/ask` endpoint, or "openai":
    `/v1/chat/completions` with `key` and `model`, the archive), record the latency. Stops after `seconds`
    or `max_requests` in all. Only meant for servers on this machine (127.0.0.1)."""
    result = LoadResult(users=users, seconds=seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    count = [0]

    def user(seed: int) -> None:
        rng = random.Random(seed)
        ask = openai_asker(url, key, model) if api == "openai" else gradio_asker(url)
        while time.monotonic() < deadline:
            with lock:
                if count[0] >= max_requests:
                    return
                count[0] += 1
            q = rng.choice(questions)
            t0 = time.perf_counter()
            try:
                out = ask(q)
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if isinstance(out, dict) and not out.get("error"):
                        result.latencies_ms.append(ms)
                        if keep_answers:
                            result.answers.append(out)
                    else:
                        result.errors.append(f"{q}: {out!r}"[:300])
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
                with lock:
                    result.errors.append(f"{q}: {type(exc).__name__}: {exc}"[:300])

    start = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    result.seconds = time.monotonic() - start
    return result
