"""HDF5 global heap collections, walked in Python before HDF5 reads them.

Why: every variable-length string of a cache (class and node names, sample
sources, string attributes such as the config) lives in a *global heap
collection* (signature ``GCOL``).  HDF5 2.0 parses a collection object by
object, each header giving the size of the next step, and a header whose
index and size are zero (64 zeroed bytes make one) is a step of zero: the
loop stands still inside C code that holds the GIL, so no timeout, signal
handler or Ctrl-C reaches it and the viewer hangs for good.  So the reader
walks every collection the way HDF5 would, here, and refuses a file whose
walk would not advance or would run past the collection.

Cost: one ``find`` over the file's bytes outside the raw data of its big
datasets (those are skipped by their chunk addresses), which leaves the
metadata, the heaps and the small datasets: milliseconds even for a
50,000-sample cache, and one small step per string.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

import h5py
import numpy as np

SIGNATURE = b"GCOL"
_BIG = 1 << 16  # raw data spans at least this big are not scanned for collections
_ALIGN = 8  # objects start on 8-byte boundaries of their collection
_FAR = 1 << 50  # a step that ends any walk: where it lands says the walk went wrong


def heap_problem(path: Path, file: h5py.File, file_size: int) -> str | None:
    """One line saying which collection would make HDF5 loop or overrun, or None.

    Raises what h5py raises on a damaged file (the caller names it).
    """
    length_size = int(file.id.get_create_plist().get_sizes()[1])
    if length_size not in (2, 4, 8):
        return f"unusual HDF5 length size {length_size}"
    skip = _merged(_raw_spans(file))
    with open(path, "rb") as handle:
        if file_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for start, stop in _gaps(skip, min(file_size, len(data))):
                at = data.find(SIGNATURE, start, stop)
                while at >= 0:
                    problem, end = _walk(data, at, length_size)
                    if problem:
                        return f"global heap collection at byte {at:,}: {problem}"
                    at = data.find(SIGNATURE, max(end, at + len(SIGNATURE)), stop)
    return None


def _raw_spans(file: h5py.File) -> list[tuple[int, int]]:
    """(offset, size) of the stored raw data of every dataset holding at least _BIG bytes."""
    spans: list[tuple[int, int]] = []

    def visit(_name: str, obj: object) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        dsid = obj.id
        if dsid.get_storage_size() < _BIG:
            return
        if obj.chunks is None:
            offset = dsid.get_offset()
            if offset is not None:
                spans.append((int(offset), int(dsid.get_storage_size())))
            return
        try:
            dsid.chunk_iter(lambda chunk: spans.append((int(chunk.byte_offset), int(chunk.size))))
        except (AttributeError, NotImplementedError):  # h5py built on an HDF5 older than 1.12.3: one call a chunk
            for i in range(dsid.get_num_chunks()):
                chunk = dsid.get_chunk_info(i)
                spans.append((int(chunk.byte_offset), int(chunk.size)))

    file.visititems(visit)
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, stop) ranges covering ``spans``."""
    out: list[tuple[int, int]] = []
    for offset, size in sorted(spans):
        if out and offset <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], offset + size))
        else:
            out.append((offset, offset + size))
    return out


def _gaps(skip: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The ranges of [0, size) outside ``skip``."""
    gaps, at = [], 0
    for start, stop in skip:
        if start > at:
            gaps.append((at, min(start, size)))
        at = max(at, stop)
    if at < size:
        gaps.append((at, size))
    return [(a, b) for a, b in gaps if a < b]


def _walk(data: mmap.mmap, at: int, length_size: int) -> tuple[str | None, int]:
    """Walk the collection at ``at`` as HDF5's deserializer does: (problem or None, its end).

    A signature not followed by version 1 and three zero bytes is not taken
    for a collection (HDF5 refuses such a header itself, without looping).
    """
    header = 8 + length_size  # collection header; an object header has the same size
    if len(data) < at + header or data[at + 4 : at + 8] != b"\x01\x00\x00\x00":
        return None, at + len(SIGNATURE)
    size = int.from_bytes(data[at + 8 : at + header], "little")
    end = at + size
    if size < header or end > len(data):
        return f"declares {size:,} bytes" + (" past the end of the file" if end > len(data) else ""), at + header
    if length_size == 8:
        stuck = _stuck_8(data, at, size)
    else:
        stuck = _stuck(data, at, size, length_size)
    return (None if stuck is None else f"{stuck[1]} at byte {at + stuck[0]:,}"), end


def _stuck_8(data: mmap.mmap, at: int, size: int) -> tuple[int, str] | None:
    """The walk for 8-byte lengths (every cache blocks-tui writes).

    The step at every 8-byte offset is computed at once with numpy, a bad
    step (zero, or free space of a size off the 8-byte grid) made a jump far
    past the end; the walk is then one addition per object (a 50,000-string
    collection in a few milliseconds), and only where it ended says whether
    it went wrong.
    """
    words = np.frombuffer(data, dtype="<u8", count=size // _ALIGN, offset=at)
    index = words & np.uint64(0xFFFF)
    length = np.empty_like(words)
    length[:-1], length[-1:] = words[1:], 0
    np.minimum(length, np.uint64(size + _ALIGN), out=length)  # a step past the end is as bad as any other
    step = np.where(index != 0, ((length + np.uint64(7)) >> np.uint64(3)) + np.uint64(2), length >> np.uint64(3))
    step[(index == 0) & ((length & np.uint64(7)) != 0)] = _FAR
    step[step == 0] = _FAR
    table = memoryview(step.astype(np.int64))
    w, last = 2, (size - 16) // _ALIGN  # after the header; the last offset with room for an object header
    while w <= last:
        w += table[w]
    if w * _ALIGN <= size:
        return None
    for w2 in _path(table, last):  # gone wrong: find the step that did, for the message
        jump = int(step[w2])
        if jump == _FAR or (w2 + jump) * _ALIGN > size:
            return _reason(w2 * _ALIGN, 0 if jump == _FAR and length[w2] == 0 else jump * _ALIGN)
    return _reason(size, -1)


def _path(table: memoryview, last: int) -> list[int]:
    path, w = [], 2
    while w <= last:
        path.append(w)
        w += table[w]
    return path


def _stuck(data: mmap.mmap, at: int, size: int, length_size: int) -> tuple[int, str] | None:
    """The same walk one header at a time, for files with 2- or 4-byte lengths."""
    fmt, header = {2: "<H6xH", 4: "<H6xI"}[length_size], 8 + length_size
    p = header
    while p + header <= size:
        index, length = struct.unpack_from(fmt, data, at + p)
        step = header + -(-length // _ALIGN) * _ALIGN if index else length
        if step <= 0 or p + step > size:
            return _reason(p, step)
        p += step
    return None


def _reason(offset: int, step: int) -> tuple[int, str]:
    if step == 0:
        return offset, "a free-space object of size 0 (HDF5 would loop forever on it)"
    return offset, "an object that runs past the collection's end"
