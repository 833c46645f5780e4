"""A thermal printer as the tests meet it: a TCP listener on 127.0.0.1 that keeps what it is
sent, and decoders that turn ZPL ``^GFA`` and TSPL ``BITMAP`` labels back into images —
written from the languages' manuals, not from the code under test."""

import base64
import binascii
import re
import socket
import threading
import zlib

import numpy
from PIL import Image

__all__ = ["FakePrinter", "closed_port", "decode_tspl", "decode_zpl", "to_image"]

_GFA = re.compile(rb"\^GFA,(\d+),(\d+),(\d+),([^\^]*)\^FS")
_TSPL_BITMAP = re.compile(rb"BITMAP (\d+),(\d+),(\d+),(\d+),(\d+),")


def _crc_xmodem(data: bytes) -> int:
    """CRC-16/CCITT with a zero start, bit by bit (the ZPL guide's ZB64 checksum)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def decode_zpl(data: bytes) -> list[numpy.ndarray]:
    """Each label's graphic field as booleans (True = black), checking what a printer
    checks: one ``^XA…^XZ`` per label, byte counts, and the Z64 CRC."""
    labels = re.findall(rb"\^XA(.*?)\^XZ", data, re.S)
    assert labels, data[:200]
    images = []
    for label in labels:
        (found,) = _GFA.findall(label)
        total, field, row_bytes, payload = int(found[0]), int(found[1]), int(found[2]), found[3]
        assert total == field and field % row_bytes == 0
        if payload.startswith(b":Z64:"):
            encoded, crc = payload[5:].rsplit(b":", 1)
            assert int(crc, 16) == _crc_xmodem(encoded), "Z64 CRC mismatch"
            rows = zlib.decompress(base64.b64decode(encoded, validate=True))
        else:
            assert re.fullmatch(rb"[0-9A-F]+", payload)
            rows = binascii.unhexlify(payload)
        assert len(rows) == total
        packed = numpy.frombuffer(rows, dtype=numpy.uint8).reshape(-1, row_bytes)
        width = int(re.search(rb"\^PW(\d+)", label).group(1))
        height = int(re.search(rb"\^LL(\d+)", label).group(1))
        assert (height, width) == (packed.shape[0], row_bytes * 8)
        images.append(numpy.unpackbits(packed, axis=1).astype(bool))
    return images


def decode_tspl(data: bytes) -> list[numpy.ndarray]:
    """Each label's bitmap as booleans (True = black; in TSPL a 0 bit burns a dot), checking
    the command sequence around it."""
    images = []
    position = 0
    while True:
        found = _TSPL_BITMAP.search(data, position)
        if not found:
            break
        head = data[position : found.start()].decode("ascii")
        assert re.search(r"SIZE [\d.]+ mm,[\d.]+ mm\r\n", head), head
        assert "CLS\r\n" in head and head.index("CLS") > head.index("SIZE")
        x, y, row_bytes, height, mode = map(int, found.groups())
        assert (x, y, mode) == (0, 0, 0)
        start = found.end()
        end = start + row_bytes * height
        assert data[end : end + 13] == b"\r\nPRINT 1,1\r\n", data[end : end + 20]
        packed = numpy.frombuffer(data[start:end], dtype=numpy.uint8).reshape(height, row_bytes)
        images.append(~numpy.unpackbits(packed, axis=1).astype(bool))
        position = end + 13
    assert images, data[:200]
    assert data[position:] == b"", data[position : position + 50]
    return images


def to_image(dots: numpy.ndarray) -> Image.Image:
    """Black dots on white, as the label comes out of the printer."""
    return Image.fromarray(numpy.where(dots, 0, 255).astype(numpy.uint8), mode="L")


class FakePrinter:
    """A printer on 127.0.0.1: every connection's bytes, in order (``jobs``). ``mute=True``
    never accepts, its backlog full: connecting to it times out, like a printer that hangs."""

    def __init__(self, *, mute: bool = False):
        self.jobs: list[bytes] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0 if mute else 8)
        self.port = self._server.getsockname()[1]
        self._mute = mute
        self._held: list[socket.socket] = []
        self._done = threading.Condition()
        self._thread = None

    def __enter__(self) -> "FakePrinter":
        if self._mute:
            filler = socket.create_connection(("127.0.0.1", self.port))
            self._held.append(filler)
        else:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for held in self._held:
            held.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _address = self._server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while data := connection.recv(1 << 16):
                    chunks.append(data)
            with self._done:
                self.jobs.append(b"".join(chunks))
                self._done.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> list[bytes]:
        with self._done:
            assert self._done.wait_for(lambda: len(self.jobs) >= count, timeout), self.jobs
        return self.jobs


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
