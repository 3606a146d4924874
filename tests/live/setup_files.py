"""The live suite's configuration and the Asterisk files it needs, written from ``config/``.

The shipped ``config/`` with the agents' phones swapped for Local channels into the
``[live-phones]`` test context (``tests/live/asterisk/live-phones.conf``), whose extensions answer,
refuse or never answer, and agent 1004 on an office PJSIP phone (baresip on 127.0.0.1 when it
runs). Everything else (queues, IVR, prompts, recording) is the shipped configuration.

``python -m tests.live.setup_files --etc /etc/asterisk --config OUT`` writes the rendered
dialplan of that configuration with its placeholders filled from the environment
(``HOTLINE_AGI_KEY``, ``HOTLINE_AMI_SECRET``, ``HOTLINE_SIP_PASSWORD_<ext>``), the test
context, a second AMI user for the suite itself (``HOTLINE_LIVE_AMI``'s user and secret,
loopback only), event timestamps (``timestampevents``), and the contexts and app_queue queue of
``bench/asterisk_cpu.py`` (``bench-cpu.conf``, ``bench-queues.conf``). The suite writes the
same configuration for the daemon it starts (``write_config``), so the installed dialplan and
the daemon agree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_all

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config"
ASTERISK_DATA = Path(__file__).resolve().parent / "asterisk"
TEST_CONTEXT = ASTERISK_DATA / "live-phones.conf"
# bench/asterisk_cpu.py: its phones, callers and app_queue context, and the app_queue queue
BENCH_CONTEXTS = ASTERISK_DATA / "bench-cpu.conf"
BENCH_QUEUES = ASTERISK_DATA / "bench-queues.conf"
PHONES_CONTEXT = "live-phones"
# agent -> endpoint; what each phone does is in live-phones.conf
ENDPOINTS = {
    "1001": f"Local/1001@{PHONES_CONTEXT}/n",  # answers after 1 s, talks 20 s
    "1002": f"Local/1002@{PHONES_CONTEXT}/n",  # answers after 1 s, talks 20 s
    "1003": f"Local/1003@{PHONES_CONTEXT}/n",  # refuses: BUSY
    "1004": "PJSIP/1004",  # an office SIP phone (baresip) on 127.0.0.1
    "1005": f"Local/1005@{PHONES_CONTEXT}/n",  # rings, never answers
    "1006": f"Local/1006@{PHONES_CONTEXT}/n",  # supervisor: answers at once
}
SUPERVISOR_PHONE = ENDPOINTS["1006"]
HTTP_PORT = 18080
# the secrets' placeholders (README "Install the Asterisk side"); ${HOTLINE_QUEUE} and the other
# channel variables of extensions.conf stay as they are
_PLACEHOLDER = re.compile(r"\$\{(HOTLINE_AGI_KEY|HOTLINE_AMI_SECRET|HOTLINE_SIP_[A-Z0-9_]+)\}")


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load a YAML file of the configuration, ``change`` it in place, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def write_config(out: Path, *, workdir: Path, asterisk_logs: Path | None = None) -> Path:
    """The live configuration in ``out`` (created); state files go under ``workdir``."""
    out.mkdir(parents=True, exist_ok=True)
    for f in SHIPPED.glob("*.yaml"):
        shutil.copy(f, out / f.name)

    def agents(data: dict[str, Any]) -> None:
        for agent in data["agents"]:
            agent["endpoint"] = ENDPOINTS[agent["id"]]
            agent.pop("quality", None)
            agent["location"] = "office"
        data["phones"].pop("remote", None)
        # qualify often: the suite sees a phone go and come back within seconds
        data["phones"]["office"]["quality"] = {
            "qualify_frequency_s": 5,
            "qualify_timeout_s": 2.0,
            "rtt_limit_ms": 1000,
        }
        for supervisor in data.get("supervisors", []):
            supervisor["phones"] = [SUPERVISOR_PHONE]

    def system(data: dict[str, Any]) -> None:
        data["http"]["port"] = HTTP_PORT
        data["database"]["spool_dir"] = str(workdir / "spool")
        logs = asterisk_logs or Path("/var/log/asterisk")
        data["fallback_import"]["queue_log"] = str(logs / "queue_log")
        data["fallback_import"]["cdr_csv"] = str(logs / "cdr-csv" / "Master.csv")
        data["fallback_import"]["every_s"] = 2
        data["logging"]["format"] = "json"

    def recording(data: dict[str, Any]) -> None:
        data["directory"] = str(workdir / "recordings")

    def queues(data: dict[str, Any]) -> None:
        data["callbacks"]["channel"] = "Local/{number}@live-callback/n"
        data["callbacks"]["calling_hours"] = [0, 24]
        data["callbacks"]["check_every_s"] = 1

    def hours(data: dict[str, Any]) -> None:  # open whenever the suite runs
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        for calendar in data["calendars"]:
            calendar["weekly"] = {day: ["00:00-24:00"] for day in days}
            calendar["holidays"] = []

    edit_yaml(out / "agents.yaml", agents)
    edit_yaml(out / "queues.yaml", queues)
    edit_yaml(out / "hours.yaml", hours)
    edit_yaml(out / "hotline.yaml", system)
    edit_yaml(out / "recording.yaml", recording)
    return out


def asterisk_files(config: Path, env: dict[str, str]) -> dict[str, str]:
    """The rendered dialplan of ``config`` with its placeholders filled from ``env``."""
    rendered = render_all(load_settings(config, require_secrets=False))
    missing: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            missing.add(name)
            return match.group(0)
        return env[name]

    files = {name: _PLACEHOLDER.sub(fill, text) for name, text in rendered.items()}
    if missing:
        raise SystemExit(f"set these in the environment first: {', '.join(sorted(missing))}")
    return files


def live_ami_user(spec: str) -> tuple[str, int, str, str]:
    """``host:port,user,secret`` (HOTLINE_LIVE_AMI) -> (host, port, user, secret)."""
    try:
        address, user, secret = spec.split(",", 2)
        host, port = address.rsplit(":", 1)
        return host, int(port), user, secret
    except ValueError:
        raise ValueError(f"HOTLINE_LIVE_AMI={spec!r}: expected host:port,user,secret") from None


def install(etc: Path, config: Path, env: dict[str, str]) -> list[Path]:
    files = asterisk_files(config, env)
    _, _, user, secret = live_ami_user(env["HOTLINE_LIVE_AMI"])
    # The suite's own AMI user drives callers and reads every event; loopback only.
    files["manager.conf"] += (
        f"\n[{user}]\n; the live test suite (tests/live): originates callers, reads all events\n"
        f"secret = {secret}\ndeny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n"
        "read = all\nwrite = all\n"
    )
    # Asterisk stamps every event (Timestamp: epoch seconds, microseconds): the suite's
    # and the benchmarks' timings come from Asterisk's clock, not from when we read them.
    files["manager.conf"] = files["manager.conf"].replace(
        "[general]\n", "[general]\ntimestampevents = yes\n", 1
    )
    files["extensions.conf"] += "\n#include live-phones.conf\n#include bench-cpu.conf\n"
    files["live-phones.conf"] = TEST_CONTEXT.read_text()
    files["bench-cpu.conf"] = BENCH_CONTEXTS.read_text()
    files["queues.conf"] += "\n#include bench-queues.conf\n"
    files["bench-queues.conf"] = BENCH_QUEUES.read_text()
    written = []
    for name, text in files.items():
        (etc / name).write_text(text)
        written.append(etc / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--etc", type=Path, required=True, help="Asterisk's configuration dir")
    parser.add_argument("--config", type=Path, required=True, help="where to write the config")
    parser.add_argument("--logs", type=Path, help="Asterisk's log dir (queue_log, cdr-csv)")
    args = parser.parse_args(argv)
    config = write_config(args.config, workdir=args.config / "var", asterisk_logs=args.logs)
    for path in install(args.etc, config, dict(os.environ)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
