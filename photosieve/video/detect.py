"""Is this object a video container? A sniff of its first bytes, no decoding.

The archive reader hands every object to the image decoder first; objects it
cannot place as images are then checked here, so a video is hashed as a
video instead of being filed as ``not_an_image``. The checks are on magic
bytes only (cheap, and safe on hostile data), and are written so that no
image format is taken for a video:

* ISO-BMFF (MP4, MOV, 3GP) starts with an ``ftyp`` box, but so do HEIF/HEIC,
  AVIF (also animated AVIF), JPEG 2000 and Canon CR3 *images*: those brands
  are excluded, so they stay images.
* RIFF holds AVI (``AVI ``) but also WebP (``WEBP``), animated or not: only
  ``AVI `` counts.
* GIF and APNG have their own signatures, which match none of the below.

>>> sniff(b"\\x00\\x00\\x00\\x18ftypisom\\x00\\x00\\x02\\x00isomiso2")
'mp4'
>>> sniff(b"RIFF\\x24\\x00\\x00\\x00WEBPVP8 ") is None
True
"""

from __future__ import annotations

# How many leading bytes the sniff needs: enough for 4 MPEG-TS packets (the
# sync byte repeats every 188 bytes, or 192 in Blu-ray M2TS) and the EBML
# header's DocType.
SNIFF_BYTES = 4 * 192 + 8

# ISO-BMFF major brands that are still images (or image sequences, which
# photosieve treats like animated images), per the HEIF, AVIF, JPEG 2000 and
# CR3 registrations.
_IMAGE_BRANDS = frozenset(
    {
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
        b"mif1", b"mif2", b"msf1", b"avif", b"avis", b"avio",
        b"jp2 ", b"jpx ", b"jpm ", b"mjp2",
        b"crx ",
    }
)
# Top-level boxes an old QuickTime file may start with, before ``ftyp`` existed.
_QUICKTIME_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_TS_SYNC = 0x47
_MPEG_PS_PACK = b"\x00\x00\x01\xba"


def sniff(head: bytes) -> str | None:
    """The container family of an object from its first bytes, or None.

    Returns one of ``"mp4"``, ``"mov"``, ``"webm"``, ``"matroska"``, ``"avi"``,
    ``"mpegts"``, ``"mpegps"``. Pass at least :data:`SNIFF_BYTES` bytes
    when the object has them (MPEG-TS needs several packets to be told from
    a random 0x47 byte).
    """
    head = bytes(head[:SNIFF_BYTES])
    for check in (_iso_bmff, _ebml, _avi, _mpeg_ts, _mpeg_ps):
        kind = check(head)
        if kind is not None:
            return kind
    return None


def is_video(head: bytes) -> bool:
    """True if :func:`sniff` recognises a video container."""
    return sniff(head) is not None


def _iso_bmff(head: bytes) -> str | None:
    if len(head) < 12:
        return None
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "mov" if brand == b"qt  " else "mp4"
    size = int.from_bytes(head[0:4], "big")
    # A pre-ftyp QuickTime file: a plausible first box size (8 = empty box,
    # 1 = 64-bit size follows) and a known top-level box type.
    if box in _QUICKTIME_BOXES and (size >= 8 or size == 1):
        return "mov"
    return None


def _ebml(head: bytes) -> str | None:
    if not head.startswith(_EBML_MAGIC):
        return None
    # The DocType element (ID 0x4282) names the flavour; WebM is a Matroska subset.
    return "webm" if b"\x42\x82\x84webm" in head[:64] else "matroska"


def _avi(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def _mpeg_ts(head: bytes) -> str | None:
    """Sync bytes at every packet start: 188-byte TS, or 192-byte M2TS (4-byte prefix)."""
    for packet, offset in ((188, 0), (192, 4)):
        starts = range(offset, len(head), packet)
        # Demand every packet start the sniffed bytes contain, and at least
        # two, so a lone 0x47 byte is not a video; short objects (one packet)
        # are not decodable video anyway.
        if len(starts) >= 2 and all(head[i] == _TS_SYNC for i in starts):
            return "mpegts"
    return None


def _mpeg_ps(head: bytes) -> str | None:
    return "mpegps" if head.startswith(_MPEG_PS_PACK) else None
