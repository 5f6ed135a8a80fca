"""Video containers are recognised by their first bytes; images (animated ones too) are not."""

from __future__ import annotations

import io

import pytest

from photosieve.video.detect import SNIFF_BYTES, is_video, sniff
from tests.photosieve.video.videos import RECIPES, audio_only, video
from tests.transforms.samples import picture

EXPECTED = {"mp4-h264": "mp4", "mov-mpeg4": "mov", "webm-vp8": "webm", "webm-vp9": "webm",
            "mkv-h264": "matroska", "avi-mjpeg": "avi", "ts-mpeg2": "mpegts"}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_generated_videos_are_recognised(recipe):
    data = video(recipe, seconds=1)
    assert sniff(data) == EXPECTED[recipe]
    assert sniff(data[:SNIFF_BYTES]) == EXPECTED[recipe]


def _animated(fmt: str) -> bytes:
    frames = [picture(i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG", "TIFF"])
def test_animated_images_stay_images(fmt):
    assert not is_video(_animated(fmt))


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"msf1", b"avif", b"avis", b"jp2 ", b"crx "])
def test_iso_bmff_image_brands_stay_images(brand):
    head = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic"
    assert sniff(head) is None


def test_iso_bmff_video_brands():
    assert sniff(b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4") == "mp4"
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ") == "mov"
    assert sniff(b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat") == "mov"


def test_audio_only_mp4_is_a_container_so_the_decoder_reports_no_video_stream():
    assert sniff(audio_only()) == "mp4"


@pytest.mark.parametrize("data", [b"", b"G", b"G" + bytes(187), b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                                  b"\x1a\x45\xdf", b"hello world, not a video at all",
                                  b"\x00\x00\x00\x18ftyp"])
def test_other_bytes_are_not_video(data):
    assert sniff(data) is None


def test_mpeg_ts_needs_sync_bytes_at_every_packet_start():
    packets = (b"\x47" + bytes(187)) * 4
    assert sniff(packets) == "mpegts"
    broken = bytearray(packets)
    broken[188 * 2] = 0
    assert sniff(bytes(broken)) is None
    m2ts = (bytes(4) + b"\x47" + bytes(187)) * 4
    assert sniff(m2ts) == "mpegts"


def test_mpeg_ps_pack_header():
    assert sniff(b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01") == "mpegps"
