"""H.264 non-reference pictures are told from references by their slices' nal_ref_idc."""

from __future__ import annotations

import av
import pytest

from photosieve.video.nonref import avcc_length_size, is_nonreference_h264
from tests.photosieve.video.videos import encode, frames


def _nal(header: int, body: bytes = b"\x88\x84") -> bytes:
    return bytes([header]) + body


def _avcc(*nals: bytes, size: int = 4) -> bytes:
    return b"".join(len(n).to_bytes(size, "big") + n for n in nals)


def _annex_b(*nals: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


@pytest.mark.parametrize("pack", [_avcc, _annex_b])
def test_reference_flags(pack):
    length = 4 if pack is _avcc else None
    sei, b_slice, p_slice, idr = _nal(0x06), _nal(0x01), _nal(0x41), _nal(0x65)
    assert is_nonreference_h264(pack(sei, b_slice), length)
    assert is_nonreference_h264(pack(b_slice, b_slice), length)
    assert not is_nonreference_h264(pack(b_slice, p_slice), length)  # any reference slice counts
    assert not is_nonreference_h264(pack(idr), length)
    assert not is_nonreference_h264(pack(sei), length)  # no slice: not a picture


def test_unparseable_packets_are_decoded():
    assert not is_nonreference_h264(b"\x00\x00\x00\x09\x01", 4)  # length runs past the end
    assert not is_nonreference_h264(b"\x00\x00\x00\x00", 4)
    assert not is_nonreference_h264(b"no start code", None)


def test_avcc_length_size():
    assert avcc_length_size(b"\x01\x64\x00\x1f\xff\xe1") == 4
    assert avcc_length_size(b"\x01\x64\x00\x1f\xfd\xe1") == 2
    assert avcc_length_size(b"\x00\x00\x00\x01\x67") is None
    assert avcc_length_size(None) is None


def test_x264_b_frames_are_found_in_a_real_stream():
    import io

    data = encode(frames(48), "mp4-h264", 25)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        size = avcc_length_size(stream.codec_context.extradata)
        flags = [(p.is_keyframe, is_nonreference_h264(bytes(p), size)) for p in container.demux(stream) if p.size]
    assert size == 4
    assert not any(nonref for key, nonref in flags if key)
    assert 10 < sum(nonref for _, nonref in flags) < 40
