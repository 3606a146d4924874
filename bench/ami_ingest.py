"""AMI ingest benchmark: events/s through our framing vs panoramisk 1.4's parser.

Replays the recorded load-test stream (``load_test_direct-queue_raw.txt.gz``: 50 concurrent calls,
6,367 events, 2.6 MB), repeated to a few MB, over a loopback TCP socket. A forked sender process
writes the bytes; the main thread reads up to 64 KiB at a time and feeds each read to the parser
under test:

* ``Framer`` (acd.asterisk.ami.framing): bytes -> Message;
* ``ClientConnection`` (acd.asterisk.ami.client): the same plus ActionID/list correlation;
* panoramisk 1.4 ``AMIProtocol.data_received`` with a dummy transport and a factory whose
  ``dispatch`` only counts events (panoramisk's own decode -> split -> Message -> dispatch path,
  nothing of ours). Its encoding is set to utf-8 like ours.

Every parser gets the same stream; each is run ``--repeat`` times and the best run is kept (the
machine is shared). ``*_parse_only`` numbers feed pre-read chunks without a socket.

    python bench/ami_ingest.py --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panoramisk.ami_protocol import AMIProtocol

from acd.asterisk.ami.client import NEED_DATA, ClientConnection, EventReceived
from acd.asterisk.ami.framing import Framer
from acd.asterisk.ami.message import Message
from tests.transcripts import wire_bytes

READ_SIZE = 65536
Feeder = Callable[[], tuple[Callable[[bytes], None], Callable[[], int]]]


def framer_feeder() -> tuple[Callable[[bytes], None], Callable[[], int]]:
    framer = Framer(expect_banner=False)
    count = 0

    def feed(data: bytes) -> None:
        nonlocal count
        framer.receive_data(data)
        while isinstance(framer.next_message(), Message):
            count += 1

    return feed, lambda: count


def client_feeder() -> tuple[Callable[[bytes], None], Callable[[], int]]:
    conn = ClientConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n")
    conn.next_event()
    count = 0

    def feed(data: bytes) -> None:
        nonlocal count
        conn.receive_data(data)
        while (event := conn.next_event()) is not NEED_DATA:
            if isinstance(event, EventReceived):
                count += 1

    return feed, lambda: count


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class _Factory:
    def __init__(self) -> None:
        self.events = 0

    def dispatch(self, message: Any) -> None:
        self.events += 1


def panoramisk_feeder() -> tuple[Callable[[bytes], None], Callable[[], int]]:
    protocol = AMIProtocol()
    protocol.connection_made(_Transport())
    factory = _Factory()
    protocol.factory = factory
    protocol.encoding = "utf-8"
    return protocol.data_received, lambda: factory.events


def _send(listener: socket.socket, data: bytes) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.sendall(data)


def _over_tcp(data: bytes, make: Feeder) -> tuple[float, int]:
    # The sender is a separate (forked) process so it does not compete for our GIL.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    sender = multiprocessing.get_context("fork").Process(target=_send, args=(listener, data))
    sender.start()
    feed, count = make()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        start = time.perf_counter()
        while chunk := sock.recv(READ_SIZE):
            feed(chunk)
        elapsed = time.perf_counter() - start
    sender.join()
    listener.close()
    return elapsed, count()


def _parse_only(chunks: list[bytes], make: Feeder) -> tuple[float, int]:
    feed, count = make()
    start = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    return time.perf_counter() - start, count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--copies", type=int, default=3, help="copies of the 2.6 MB recording")
    parser.add_argument("--repeat", type=int, default=5, help="runs per parser (best kept)")
    args = parser.parse_args()

    data = wire_bytes("load_test_direct-queue_raw.txt.gz") * args.copies
    chunks = [data[i : i + READ_SIZE] for i in range(0, len(data), READ_SIZE)]
    feeders: dict[str, Feeder] = {
        "framer": framer_feeder,
        "client": client_feeder,
        "panoramisk": panoramisk_feeder,
    }
    rates: dict[str, float] = {}
    counts: dict[str, int] = {}
    for name, make in feeders.items():
        for mode in ("tcp", "parse"):
            best = float("inf")
            for _ in range(args.repeat):
                if mode == "tcp":
                    elapsed, counts[name] = _over_tcp(data, make)
                else:
                    elapsed, counts[name] = _parse_only(chunks, make)
                best = min(best, elapsed)
            rates[f"{name}_{mode}"] = counts[name] / best
    result = {
        "events_per_s": round(rates["framer_tcp"]),
        "panoramisk_events_per_s": round(rates["panoramisk_tcp"]),
        "ratio": round(rates["framer_tcp"] / rates["panoramisk_tcp"], 3),
        "client_events_per_s": round(rates["client_tcp"]),
        "client_ratio": round(rates["client_tcp"] / rates["panoramisk_tcp"], 3),
        "framer_parse_only_events_per_s": round(rates["framer_parse"]),
        "client_parse_only_events_per_s": round(rates["client_parse"]),
        "panoramisk_parse_only_events_per_s": round(rates["panoramisk_parse"]),
        "events": counts["framer"],
        "events_seen_by": counts,
        "bytes": len(data),
        "read_size": READ_SIZE,
        "repeat": args.repeat,
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:36} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
