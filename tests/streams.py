"""A request body made as it is read, counting how much the app reads: a 300 MB body needs no
memory (used by tests/test_attacks.py and bench/refusals.py)."""
from __future__ import annotations

import io


class CountingStream(io.RawIOBase):
    """A request body that counts how much of it the app reads."""

    def __init__(self, size: int):
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"a" * n
        self.position += n
        self.read_bytes += n
        return n
