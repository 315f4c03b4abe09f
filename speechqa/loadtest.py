"""`speechqa load URL`: simulated users asking through the app's HTTP API (gradio_client), bounded in
count and time, against a server on this machine. Prints requests/s, latency percentiles and errors."""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field

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


def run_load(url: str, questions: list[str], users: int = 8, seconds: float = 120.0,
             max_requests: int = 10_000, keep_answers: bool = False) -> LoadResult:
    """Each user loops: pick a question, call the `ask` endpoint, record the latency. Stops after
    `seconds` or `max_requests` in all. Only meant for servers on this machine (127.0.0.1)."""
    from gradio_client import Client

    result = LoadResult(users=users, seconds=seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    count = [0]

    def user(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(url, verbose=False)
        while time.monotonic() < deadline:
            with lock:
                if count[0] >= max_requests:
                    return
                count[0] += 1
            q = rng.choice(questions)
            t0 = time.perf_counter()
            try:
                out = client.predict(q, api_name="/ask")
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
