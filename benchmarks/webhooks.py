"""Webhook latency under load: N concurrent simulated calls, each leaving a voicemail.

Prints p50 and p99 of /ivr/incoming and of the recording status callback, as seen by Twilio
(the simulator), against a real `hotline web` process.

    python benchmarks/webhooks.py [--calls 200] [--backend embedded|postgres]
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
import wave
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    percentile,
    running_hotline,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport, WireResponse


class TimedTransport(HttpTransport):
    """HttpTransport that notes how long each webhook took, by path."""

    def __init__(self, target: str, timings: dict[str, list[float]]) -> None:
        super().__init__(target, timeout=60)
        self.timings = timings
        self.lock = threading.Lock()

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse:
        started = time.perf_counter()
        response = super().request(method, url, params, headers)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.timings[urlsplit(url).path].append(elapsed)
            if response.status >= 400:
                self.timings["errors"].append(elapsed)
        return response


def short_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000 * 3)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backend", choices=["embedded", "postgres"], default="embedded")
    parser.add_argument("--processes", type=int, default=2, help="web processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per web process")
    args = parser.parse_args()
    audio = short_wav()
    timings: dict[str, list[float]] = defaultdict(list)
    with (
        TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest,
        running_hotline(args.backend, rest.base_url, threads=args.threads) as hotline,
    ):
        transport = TimedTransport(hotline.base_url, timings)

        def one_call(index: int) -> bool:
            simulator = CallSimulator(
                transport,
                public_base_url=PUBLIC_URL,
                account_sid=ACCOUNT_SID,
                auth_token=AUTH_TOKEN,
                rest=rest,
            )
            result = simulator.call(
                from_=f"+86138{index:08d}",
                to="+8610123456",
                script=[Press("1"), Speak(audio), Press("#")],
                url="/ivr/incoming",
            )
            return result.application_error is None and len(result.recordings) == 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.calls) as pool:
            ok = sum(pool.map(one_call, range(args.calls)))
        wall = time.perf_counter() - started
    print(
        f"{args.calls} concurrent calls on {args.backend} ({args.processes} web processes x "
        f"{args.threads} threads): {ok} completed, wall {wall:.1f} s"
    )
    print(f"{'webhook':28} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for path in sorted(timings):
        values = timings[path]
        print(
            f"{path:28} {len(values):5d} {percentile(values, 0.5) * 1000:8.1f} "
            f"{percentile(values, 0.99) * 1000:8.1f} {max(values) * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
