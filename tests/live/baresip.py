"""Debian's baresip as agent 1004's office SIP phone on 127.0.0.1 (UDP), auto-answering.

It registers to the live Asterisk with ``HOTLINE_SIP_PASSWORD_1004`` (the password the
installed pjsip.conf was filled with), sends a 440 Hz tone from a file and writes what it
hears to a WAV.
SIGSTOP makes it deaf to qualify (OPTIONS) without unregistering: the network to a remote
agent's home failing; SIGCONT brings it back.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import struct
import wave
from pathlib import Path

BARESIP = shutil.which("baresip")
PORT = 5070


def tone(path: Path, seconds: int = 30) -> Path:
    """A 440 Hz tone, 8 kHz mono 16-bit (baresip 1.0's ausine only runs at 48 kHz)."""
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(rate * seconds)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def config(dirpath: Path, password: str) -> Path:
    dirpath.mkdir(parents=True, exist_ok=True)
    (dirpath / "config").write_text(
        "\n".join(
            [
                "poll_method epoll",
                f"sip_listen 127.0.0.1:{PORT}",
                "net_interface 127.0.0.1",
                f"audio_player aufile,{dirpath / 'heard.wav'}",
                f"audio_source aufile,{tone(dirpath / 'tone.wav')}",
                "audio_alert aufile,/dev/null",
                "module_path /usr/lib/baresip/modules",
                "module g711.so",
                "module aufile.so",
                "module_app account.so",
                "module_app menu.so",
                "",
            ]
        )
    )
    (dirpath / "accounts").write_text(
        f"<sip:1004@127.0.0.1:5060;transport=udp>;auth_pass={password};answermode=auto;regint=60\n"
    )
    return dirpath


class Baresip:
    def __init__(self, dirpath: Path) -> None:
        self.dir = config(dirpath, os.environ["HOTLINE_SIP_PASSWORD_1004"])
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        assert BARESIP is not None
        with (self.dir / "baresip.log").open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                BARESIP,
                "-f",
                str(self.dir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )

    def pause(self, paused: bool = True) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            async with asyncio.timeout(5):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
