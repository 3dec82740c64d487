"""HTTP layer benchmarks (not collected by pytest): ``python -m tests.benchmarks.bench_http``.

1. Connection reuse: 500 sequential GETs through the pooled client vs. a new client (new TCP connection) per request.
2. Fan-out: one operation over 10 simulators with 300 ms latency each, via ``fan_out``; target ≤ 1.5× one call.
"""

from __future__ import annotations

import time

from apps.providers.base import ConnectionConfig
from apps.providers.http import build_client, close_all_clients, fan_out, send
from apps.providers.retool import RetoolProvider
from apps.simulators import start_simulator

TOKEN = "bench-token"


def bench_reuse(n: int = 500) -> dict[str, float]:
    sim = start_simulator("retool", token=TOKEN, profile="enterprise", users=5)
    try:
        config = ConnectionConfig(kind="retool", base_url=sim.url, token=TOKEN, key="bench-reuse")
        close_all_clients()
        client = build_client(config)
        send(client, "GET", "/api/v2/user_attributes", config=config)  # warm up
        t0 = time.perf_counter()
        for _ in range(n):
            send(client, "GET", "/api/v2/user_attributes", config=config)
        pooled = time.perf_counter() - t0
        close_all_clients()
        t0 = time.perf_counter()
        for _ in range(n):
            fresh = build_client(config, transport=None)
            send(fresh, "GET", "/api/v2/user_attributes", config=config)
            close_all_clients()  # drop the pooled client: the next request opens a new connection
        unpooled = time.perf_counter() - t0
    finally:
        sim.stop()
    return {"requests": n, "pooled_s": pooled, "new_client_s": unpooled, "ratio": unpooled / pooled}


def bench_fan_out(count: int = 10, latency_ms: int = 300) -> dict[str, float]:
    sims = [
        start_simulator("retool", token=TOKEN, profile="enterprise", users=5, latency_ms=latency_ms)
        for _ in range(count)
    ]
    try:
        providers = [
            RetoolProvider(ConnectionConfig(kind="retool", base_url=s.url, token=TOKEN, key=f"bench-fan-{i}"))
            for i, s in enumerate(sims)
        ]
        for p in providers:  # warm the pooled connections
            p.list_user_attributes()
        t0 = time.perf_counter()
        providers[0].list_user_attributes()
        single = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = fan_out(lambda p: p.list_user_attributes(), providers, max_workers=count)
        fanned = time.perf_counter() - t0
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    finally:
        for s in sims:
            s.stop()
        close_all_clients()
    return {"instances": count, "single_s": single, "fan_out_s": fanned, "ratio": fanned / single}


def main() -> None:
    reuse = bench_reuse()
    print(  # noqa: T201
        f"connection reuse: {reuse['requests']} GETs pooled {reuse['pooled_s']:.2f} s, "
        f"new client each {reuse['new_client_s']:.2f} s, ratio {reuse['ratio']:.2f}x"
    )
    fan = bench_fan_out()
    verdict = "OK" if fan["ratio"] <= 1.5 else "TOO SLOW"
    print(  # noqa: T201
        f"fan-out: {fan['instances']} instances x 300 ms: single {fan['single_s']:.2f} s, "
        f"fan_out {fan['fan_out_s']:.2f} s, ratio {fan['ratio']:.2f}x (target <= 1.5x) {verdict}"
    )


if __name__ == "__main__":
    main()
