"""Bytes to a printer: raw TCP (the JetDirect port, 9100 by default) or a CUPS queue through
``lp -d QUEUE -o raw`` (run without a shell, the bytes on its standard input).

Timeouts are short, so a printer that is off, unplugged or out of paper never holds a packer's
request: ``CONNECT_TIMEOUT`` to connect, ``SEND_TIMEOUT`` for each write to make progress (a
printer that stopped taking data). A failure raises ``PrinterError`` with a message a packer
can act on, in the interface language.
"""

import shutil
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

__all__ = [
    "CONNECT_TIMEOUT",
    "SEND_TIMEOUT",
    "PrinterAddress",
    "PrinterError",
    "send",
]

CONNECT_TIMEOUT = 2.0  # seconds: a printer on the shop's network answers in milliseconds
SEND_TIMEOUT = 10.0  # seconds for one write to go through: the printer's buffer drains slowly
LP_TIMEOUT = 30.0  # seconds for lp to take a job into its queue


class PrinterError(Exception):
    """The printer could not be reached or stopped taking data; ``str()`` says what to do,
    ``sent`` how many labels went through before it did."""

    def __init__(self, message: str, *, sent: int = 0):
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class PrinterAddress:
    """Where labels go: ``host``/``port`` for raw TCP, or ``cups_queue``."""

    name: str
    host: str = ""
    port: int = 9100
    cups_queue: str = ""

    def __str__(self) -> str:
        return f"cups:{self.cups_queue}" if self.cups_queue else f"{self.host}:{self.port}"


def send(address: PrinterAddress, chunks: Iterable[bytes]) -> int:
    """Send every chunk, in order, over one connection (one CUPS job); returns how many
    chunks went through. A chunk is one label, so the count says how far a failed batch
    got."""
    if address.cups_queue:
        return _send_cups(address, chunks)
    return _send_tcp(address, chunks)


def _values(address: PrinterAddress, **extra) -> dict:
    return {"printer": address.name, "address": str(address), **extra}


def _send_tcp(address: PrinterAddress, chunks: Iterable[bytes]) -> int:
    try:
        connection = socket.create_connection((address.host, address.port), timeout=CONNECT_TIMEOUT)
    except socket.gaierror:
        raise PrinterError(
            _("Printer %(printer)s: the address %(address)s is unknown on this network.")
            % _values(address)
        ) from None
    except ConnectionRefusedError:
        raise PrinterError(
            _(
                "Printer %(printer)s (%(address)s) refused the connection: is the port right, "
                "and is another computer printing to it?"
            )
            % _values(address)
        ) from None
    except TimeoutError:
        raise PrinterError(
            _(
                "Printer %(printer)s (%(address)s) did not answer within %(seconds)s s: is it "
                "switched on and connected to the network?"
            )
            % _values(address, seconds=f"{CONNECT_TIMEOUT:g}")
        ) from None
    except OSError as exc:
        raise PrinterError(
            _("Printer %(printer)s (%(address)s) cannot be reached: %(error)s")
            % _values(address, error=exc.strerror or exc)
        ) from None
    sent = 0
    with connection:
        connection.settimeout(SEND_TIMEOUT)
        try:
            for chunk in chunks:
                connection.sendall(chunk)
                sent += 1
        except TimeoutError:
            raise PrinterError(
                _(
                    "Printer %(printer)s (%(address)s) stopped taking labels after %(sent)d: "
                    "out of paper, lid open, or paused?"
                )
                % _values(address, sent=sent),
                sent=sent,
            ) from None
        except OSError as exc:
            raise PrinterError(
                _(
                    "Printer %(printer)s (%(address)s) dropped the connection after %(sent)d "
                    "labels: %(error)s"
                )
                % _values(address, sent=sent, error=exc.strerror or exc),
                sent=sent,
            ) from None
    return sent


def _send_cups(address: PrinterAddress, chunks: Iterable[bytes]) -> int:
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterError(
            _(
                "Printer %(printer)s prints through CUPS, but this server has no lp command "
                "(install the cups-client package)."
            )
            % _values(address)
        )
    # Passed as a list, without a shell: the queue's name is one argument whatever it holds.
    command = [lp, "-d", address.cups_queue, "-o", "raw"]
    sent = 0
    try:
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process:
            try:
                for chunk in chunks:
                    process.stdin.write(chunk)
                    sent += 1
            except BrokenPipeError:
                pass  # lp gave up early: its exit status and message say why
            try:  # closes lp's input, then waits for it to spool the job
                out, err = process.communicate(timeout=LP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                raise PrinterError(
                    _("Printer %(printer)s: CUPS did not take the job within %(seconds)s s.")
                    % _values(address, seconds=f"{LP_TIMEOUT:g}")
                ) from None
    except OSError as exc:
        raise PrinterError(
            _("Printer %(printer)s: lp could not be started: %(error)s")
            % _values(address, error=exc.strerror or exc)
        ) from None
    if process.returncode != 0:
        said = (err or out).decode("utf-8", "replace").strip()
        raise PrinterError(
            _("Printer %(printer)s: CUPS refused the job (%(error)s).")
            % _values(address, error=said[:150] or process.returncode)
        )
    return sent
