"""Which compressed H.264 pictures no other picture refers to (so need not be decoded).

A picture whose slices all have ``nal_ref_idc == 0`` (H.264 7.4.1) is never
used to predict another: dropping its packet leaves every other decoded
frame bit-identical. With x264's defaults about half of all frames are such
B-frames, so not decoding the unsampled ones halves decoding work while the
sampled frames stay exactly vPDQ's.

Packets come either length-prefixed (AVCC: MP4, MOV, MKV; the prefix size is
in the avcC extradata) or with Annex B start codes (MPEG-TS, raw streams).
"""

from __future__ import annotations

_SLICE_TYPES = range(1, 6)  # coded slice NAL unit types: non-IDR (1-4) and IDR (5)


def avcc_length_size(extradata: bytes | None) -> int | None:
    """Bytes of each NAL length prefix from avcC extradata, or None for Annex B streams."""
    if extradata and len(extradata) >= 5 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    return None


def is_nonreference_h264(packet: bytes, length_size: int | None) -> bool:
    """True if the packet holds slices and every slice has nal_ref_idc 0.

    False whenever the packet cannot be parsed cleanly (then it is decoded:
    decoding a picture that could have been skipped costs time, never bits).
    """
    headers = _avcc_headers(packet, length_size) if length_size else _annex_b_headers(packet)
    if headers is None:
        return False
    slices = [h for h in headers if (h & 0x1F) in _SLICE_TYPES]
    return bool(slices) and all(h & 0x60 == 0 for h in slices)


def _avcc_headers(packet: bytes, length_size: int) -> list[int] | None:
    headers, offset = [], 0
    while offset < len(packet):
        if offset + length_size >= len(packet):
            return None
        size = int.from_bytes(packet[offset : offset + length_size], "big")
        start = offset + length_size
        if size == 0 or start + size > len(packet):
            return None
        headers.append(packet[start])
        offset = start + size
    return headers


def _annex_b_headers(packet: bytes) -> list[int] | None:
    headers, offset = [], packet.find(b"\x00\x00\x01")
    if offset < 0:
        return None
    while offset >= 0:
        start = offset + 3
        if start >= len(packet):
            break
        headers.append(packet[start])
        offset = packet.find(b"\x00\x00\x01", start)
    return headers
