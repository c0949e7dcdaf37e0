#!/usr/bin/python3
"""Makes the small .npy / .npz / image fixtures of tests/unit/test_io.cc.

Run with Debian's numpy:  /usr/bin/python3 tests/data/io/make_fixtures.py
Writes next to this script. Deterministic (zip timestamps are pinned).
"""
import io
import os
import struct
import time
import zipfile
import zlib

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))

# np.savez stamps entries with the current time; pin it so the fixtures are reproducible.
os.environ["TZ"] = "UTC"
time.tzset()
time.time = lambda: 1700000000.0


def path(name):
    return os.path.join(OUT, name)


def save(name, arr, version=None):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def raw_npy(header_text, data=b"", version=(1, 0), pad=True):
    """An .npy file with an arbitrary header dict text (for malformed headers)."""
    h = header_text.encode("latin1")
    pre = 10 if version[0] == 1 else 12
    if pad:
        h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    length = struct.pack("<H", len(h)) if version[0] == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes(version) + length + h + data


def npy_bytes(arr):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, allow_pickle=False)
    return b.getvalue()


def zip64_archive(entries):
    """A ZIP whose every entry uses ZIP64 extra fields (local and central) and that ends with a
    ZIP64 end-of-central-directory record + locator, as zipfile writes for > 4 GiB archives."""
    out = bytearray()
    central = bytearray()
    for name, payload, method in entries:
        name_b = name.encode()
        crc = zlib.crc32(payload)
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            data = c.compress(payload) + c.flush()
        else:
            data = payload
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(payload), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(name_b), len(extra))
        out += name_b + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(payload), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(name_b), len(cextra), 0, 0, 0, 0,
                               0xFFFFFFFF)
        central += name_b + cextra
    cd_offset = len(out)
    out += central
    end64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def jpeg_bytes(img):
    """A baseline JPEG of an RGB uint8 image (H, W multiples of 8) with every quantizer 1 (nearly
    lossless) and flat Huffman tables: written here so the fixture needs nothing but numpy."""
    h, w, _ = img.shape
    assert h % 8 == 0 and w % 8 == 0
    rgb = img.astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    planes = [0.299 * r + 0.587 * g + 0.114 * b,
              -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
              0.5 * r - 0.418688 * g - 0.081312 * b + 128]
    u = np.arange(8)
    dct = np.sqrt(2 / 8) * np.cos((2 * u[None, :] + 1) * u[:, None] * np.pi / 16)
    dct[0] /= np.sqrt(2)
    zigzag = sorted(((i, j) for i in range(8) for j in range(8)),
                    key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else p[1]))
    ac_symbols = [0x00, 0xF0] + [(run << 4) | size for run in range(16) for size in range(1, 11)]
    dc_code = {s: (s, 4) for s in range(12)}                      # symbol -> (code, length)
    ac_code = {s: (i, 8) for i, s in enumerate(ac_symbols)}

    bits = []

    def put(code, length):
        bits.extend((code >> (length - 1 - k)) & 1 for k in range(length))

    def put_value(v):
        size = int(abs(v)).bit_length()
        return size, (v if v >= 0 else v + (1 << size) - 1)

    pred = [0, 0, 0]
    for by in range(0, h, 8):
        for bx in range(0, w, 8):
            for c in range(3):
                block = planes[c][by:by + 8, bx:bx + 8] - 128
                coef = np.clip(np.rint(dct @ block @ dct.T), -1023, 1023).astype(int)
                zz = [int(coef[i, j]) for i, j in zigzag]
                size, v = put_value(zz[0] - pred[c])
                pred[c] = zz[0]
                put(*dc_code[size])
                put(v, size)
                run = 0
                for a in zz[1:]:
                    if a == 0:
                        run += 1
                        continue
                    while run > 15:
                        put(*ac_code[0xF0])
                        run -= 16
                    size, v = put_value(a)
                    put(*ac_code[(run << 4) | size])
                    put(v, size)
                    run = 0
                if run:
                    put(*ac_code[0x00])
    bits.extend([1] * (-len(bits) % 8))
    data = bytearray()
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i:i + 8])), 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)

    def segment(marker, payload):
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    out = b"\xff\xd8"
    out += segment(0xFFE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    out += segment(0xFFDB, b"\0" + b"\x01" * 64)
    out += segment(0xFFC0, struct.pack(">BHHB", 8, h, w, 3) + b"".join(bytes([c + 1, 0x11, 0]) for c in range(3)))
    out += segment(0xFFC4, b"\x00" + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12)))
    out += segment(0xFFC4, b"\x10" + bytes([0] * 7 + [162] + [0] * 8) + bytes(ac_symbols))
    out += segment(0xFFDA, b"\x03" + b"".join(bytes([c + 1, 0]) for c in range(3)) + b"\x00\x3f\x00")
    return out + bytes(data) + b"\xff\xd9"


def entry_data_range(zip_bytes, name):
    """(start, end) of an entry's (compressed) data in a zip."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        info = z.getinfo(name)
    off = info.header_offset
    name_len, extra_len = struct.unpack("<HH", zip_bytes[off + 26:off + 30])
    start = off + 30 + name_len + extra_len
    return start, start + info.compress_size


def main():
    # ---- one file per dtype ---------------------------------------------------------------
    f4 = (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4")
    save("f4.npy", f4)
    save("u1.npy", np.array([0, 1, 128, 255], dtype="|u1"))
    save("i1.npy", np.array([-128, -1, 0, 127], dtype="|i1"))
    save("i4.npy", np.array([[-2147483648, -1], [0, 2147483647]], dtype="<i4"))
    save("i8.npy", np.array([-(2**63), -1, 0, 2**63 - 1], dtype="<i8"))
    save("b1.npy", np.array([True, False, True], dtype="|b1"))
    # Converted on read.
    save("f8.npy", np.array([1.5, -2.25, 0.1, 1e300], dtype="<f8"))
    save("f2.npy", np.array([1.0, -2.0, 0.5, 65504.0, 2.0**-24, np.inf], dtype="<f2"))
    save("i2.npy", np.array([-32768, -1, 0, 32767], dtype="<i2"))
    save("u2.npy", np.array([0, 1, 65535], dtype="<u2"))
    save("u4.npy", np.array([0, 1, 4294967295], dtype="<u4"))
    save("u8.npy", np.array([0, 1, 2**63 - 1], dtype="<u8"))
    save("u8_overflow.npy", np.array([0, 2**64 - 1], dtype="<u8"))
    save("c8.npy", np.array([1 + 2j], dtype="<c8"))       # unsupported dtype
    save("unicode.npy", np.array(["ab"], dtype="<U2"))    # unsupported dtype
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))   # unsupported

    # ---- shapes, layouts, versions, byte order -------------------------------------------------
    save("scalar.npy", np.array(3.5, dtype="<f4"))                    # shape ()
    save("empty.npy", np.zeros((0, 3), dtype="<f4"))
    save("fortran.npy", np.asfortranarray(np.arange(24, dtype="<i4").reshape(2, 3, 4)))
    save("fortran_f8.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
    save("v2.npy", f4, version=(2, 0))
    save("v3.npy", f4, version=(3, 0))
    save("big_f4.npy", f4.astype(">f4"))
    save("big_i8.npy", np.array([-(2**63), -2, 0x0102030405060708], dtype=">i8"))
    save("big_f8.npy", np.array([[1.5, -2.25], [4.0, 8.0]], dtype=">f8"))
    save("big_u2.npy", np.array([1, 258, 65535], dtype=">u2"))

    # ---- archives -------------------------------------------------------------------------
    entries = {
        "input": f4,
        "ids": np.array([-(2**63), 5, 2**63 - 1], dtype="<i8"),
        "scalar": np.array(7, dtype="|u1"),
        "mask": np.array([True, False], dtype="|b1"),
    }
    np.savez(path("stored.npz"), **entries)
    big = dict(entries)
    big["zeros"] = np.zeros(1000, dtype="<f4")   # compresses well, so it really is deflated
    np.savez_compressed(path("compressed.npz"), **big)
    with zipfile.ZipFile(path("compressed.npz")) as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    z64 = zip64_archive([("a.npy", npy_bytes(f4), 0), ("b.npy", npy_bytes(np.arange(4, dtype="<i4")), 8)])
    write_bytes("zip64.npz", z64)
    with np.load(path("zip64.npz")) as z:   # sanity: numpy reads it
        assert list(z.keys()) == ["a", "b"] and (z["a"] == f4).all()

    # ---- malformed files --------------------------------------------------------------------
    good = npy_bytes(f4)
    write_bytes("truncated_data.npy", good[:-3])
    write_bytes("truncated_header.npy", good[:30])
    write_bytes("truncated_magic.npy", good[:4])
    write_bytes("bad_magic.npy", b"\x93NUMPZ" + good[6:])
    write_bytes("bad_version.npy", good[:6] + b"\x04\x00" + good[8:])
    write_bytes("bad_dict.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3 }", good[128:]))
    write_bytes("missing_key.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, }", good[128:]))
    write_bytes("bad_shape.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x'), }", good[128:]))
    write_bytes("negative_dim.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", good[128:]))
    write_bytes("unterminated.npy", raw_npy("{'descr': '<f4, 'fortran_order': False, 'shape': (6,), }", good[128:]))
    write_bytes("deep.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 5000 + "}", b""))
    # A header claiming ~4 TB with 24 bytes of data: must be an error, not an allocation.
    write_bytes("huge_shape.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", good[128:]))
    write_bytes("overflow_shape.npy", raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", good[128:]))
    write_bytes("extra_data.npy", good + b"\0\0\0\0")
    write_bytes("header_len_overrun.npy", good[:8] + struct.pack("<H", 60000) + good[10:])

    stored = open(path("stored.npz"), "rb").read()
    write_bytes("truncated.npz", stored[:-30])                  # end of central directory cut off
    write_bytes("truncated_entry.npz", stored[:200])
    write_bytes("garbage.npz", b"this is not a zip archive, just some text\n" * 3)
    s, e = entry_data_range(stored, "ids.npy")
    bad = bytearray(stored)
    bad[e - 1] ^= 0xFF                                          # last data byte of 'ids'
    write_bytes("bad_crc.npz", bytes(bad))
    comp = open(path("compressed.npz"), "rb").read()
    s, e = entry_data_range(comp, "zeros.npy")
    bad = bytearray(comp)
    for i in range(s + 2, min(e, s + 12)):
        bad[i] ^= 0x55
    write_bytes("corrupt_deflate.npz", bytes(bad))
    # A zip with a valid CRC whose entry is not an npy file.
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("weights.npy", (1980, 1, 1, 0, 0, 0)), b"not an npy file at all")
    write_bytes("bad_entry.npz", b.getvalue())

    # ---- images -----------------------------------------------------------------------------
    # 16 x 8 RGB: R = 16 x, G = 32 y, B = 128 (the test recomputes these).
    yy, xx = np.mgrid[0:8, 0:16]
    img = np.stack([16 * xx, 32 * yy, np.full_like(xx, 128)], axis=-1).astype(np.uint8)
    jpg = jpeg_bytes(img)
    write_bytes("gradient.jpg", jpg)
    # A Huffman table with more than 256 codes (stb_image 2.27 would write past its tables).
    i = jpg.index(b"\xff\xc4") + 5
    write_bytes("bad_huffman.jpg", jpg[:i] + bytes([0] * 8 + [255] * 8) + jpg[i + 16:])
    write_bytes("not_an_image.png", b"this is not a PNG\n")


if __name__ == "__main__":
    main()
