"""Card-like test photos: a citizen ID card face drawn with PIL, its QR made with segno, then degraded as
phone photos are (rotation, perspective, blur, JPEG quality 40, low light, a small card in a large photo).

Everything is generated from a seed in the test session; nothing is committed as image files.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

# old (pre-2025) communes that exist in the legacy-address data, with their district and province
PLACES = [
    ("Xã An Phượng", "Huyện Thanh Hà", "Hải Dương"),
    ("Phường Dịch Vọng", "Quận Cầu Giấy", "Hà Nội"),
    ("Xã Nhân Cơ", "Huyện Đắk R'Lấp", "Đắk Nông"),
    ("Phường 4", "Quận 3", "Hồ Chí Minh"),
    ("Thị trấn Phong Điền", "Huyện Phong Điền", "Cần Thơ"),
    ("Xã Quỳnh Hưng", "Huyện Quỳnh Lưu", "Nghệ An"),
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Lan", "Mai", "Phúc", "Quyên", "Sơn", "Thảo", "Tuấn",
         "Yến", "Ánh", "Đông"]
PROVINCE_CODES = ["001", "030", "031", "040", "067", "079", "092", "096"]


@dataclass(frozen=True)
class Person:
    id_number: str
    old_id: str
    full_name: str
    birth_date: date
    sex: str  # "Nam" | "Nữ"
    address: str
    issue_date: date

    @property
    def payload(self) -> str:
        return "|".join([self.id_number, self.old_id, self.full_name, self.birth_date.strftime("%d%m%Y"),
                         self.sex, self.address, self.issue_date.strftime("%d%m%Y")])


def person(rng: random.Random) -> Person:
    male = rng.random() < 0.5
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 75))
    g = (birth.year // 100 - 19) * 2 + (0 if male else 1)
    id_number = f"{rng.choice(PROVINCE_CODES)}{g}{birth.year % 100:02d}{rng.randrange(10 ** 6):06d}"
    name = " ".join([rng.choice(FAMILY), rng.choice(MIDDLE_M if male else MIDDLE_F), rng.choice(GIVEN)])
    commune, district, province = rng.choice(PLACES)
    detail = rng.choice([f"Thôn {rng.randrange(1, 12)}", f"Số {rng.randrange(1, 300)} đường Lê Lợi",
                         f"Tổ {rng.randrange(1, 40)}", "Khu phố Tân Lập"])
    issue = date(2021, 1, 1) + timedelta(days=rng.randrange(0, 1400))
    return Person(id_number, "" if rng.random() < 0.3 else f"{rng.randrange(10 ** 9):09d}", name, birth,
                  "Nam" if male else "Nữ", f"{detail}, {commune}, {district}, {province}", issue)


def card(payload: str, rng: random.Random, width: int = 1000) -> Image.Image:
    """The card's face: a pale background, a photo box, lines of text, and the QR at the top right."""
    h = int(width * 0.63)
    img = Image.new("RGB", (width, h), (rng.randrange(200, 236), rng.randrange(215, 240), rng.randrange(225, 250)))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, width, h // 7], fill=(190, 40, 40))
    d.rectangle([width // 25, h // 4, width // 4, int(h * 0.8)], fill=(150, 160, 175))
    for i in range(7):
        y = h // 4 + i * h // 12
        d.rectangle([width // 3, y, width // 3 + rng.randrange(width // 5, width // 2), y + h // 40],
                    fill=(40, 40, 60))
    qr = segno.make(payload, error="m", mode="byte", encoding="utf-8")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=4, border=2)
    q = Image.open(buf).convert("RGB")
    side = int(width * 0.27)
    q = q.resize((side, side), Image.NEAREST)
    img.paste(q, (width - side - width // 30, h // 7 + width // 60))
    return img


def _perspective(img: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    w, h = img.size
    dx, dy = w * strength, h * strength
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(rng.uniform(0, dx), rng.uniform(0, dy)), (w - rng.uniform(0, dx), rng.uniform(0, dy)),
           (w - rng.uniform(0, dx), h - rng.uniform(0, dy)), (rng.uniform(0, dx), h - rng.uniform(0, dy))]
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=False):  # output (x, y) -> input (u, v)
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(rows, float), np.array([c for p in src for c in p], float))
    return img.transform((w, h), Image.PERSPECTIVE, coeffs.tolist(), Image.BILINEAR, fillcolor=(90, 70, 55))


DEGRADATIONS = ("rotate", "perspective", "blur", "jpeg40", "low_light", "small_in_large")


def photo(payload: str, seed: int, kind: str) -> bytes:
    """One degraded phone-like photo of a card holding ``payload`` (always JPEG, as phones send)."""
    rng = random.Random(seed)
    img = card(payload, rng, width=rng.randrange(800, 1100))
    quality = rng.randrange(70, 92)
    if kind == "rotate":
        angle = rng.choice([rng.uniform(-35, 35), 90 + rng.uniform(-10, 10), 180 + rng.uniform(-10, 10)])
        img = img.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=(90, 70, 55))
    elif kind == "perspective":
        img = _perspective(img, rng, rng.uniform(0.08, 0.22))
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    elif kind == "blur":
        img = img.rotate(rng.uniform(-10, 10), resample=Image.BILINEAR, expand=True, fillcolor=(90, 70, 55))
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.9, 2.4)))
    elif kind == "jpeg40":
        quality = 40
        img = img.rotate(rng.uniform(-8, 8), resample=Image.BILINEAR, expand=True, fillcolor=(90, 70, 55))
    elif kind == "low_light":
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.15, 0.4))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.6, 0.9))
        arr = np.asarray(img, dtype=np.int16)
        noise = np.random.default_rng(seed).normal(0, 5, arr.shape)
        img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    elif kind == "small_in_large":
        img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.BILINEAR)
        big = Image.new("RGB", (rng.randrange(3000, 4000), rng.randrange(2200, 3000)), (120, 100, 80))
        img = img.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR, expand=True, fillcolor=(120, 100, 80))
        big.paste(img, (rng.randrange(0, big.width - img.width), rng.randrange(0, big.height - img.height)))
        img = big
    else:
        raise ValueError(kind)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def degraded_set(n: int, seed: int = 19) -> list[tuple[Person, str, bytes]]:
    """``n`` photos: each degradation in turn, a new person each time."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = person(rng)
        kind = DEGRADATIONS[i % len(DEGRADATIONS)]
        out.append((p, kind, photo(p.payload, seed * 100_000 + i, kind)))
    return out


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def qr_photo(text: str, seed: int = 1) -> bytes:
    """A plain photo of some QR (a URL, a bank's VietQR) on a card-like background."""
    return photo(text, seed, "jpeg40")
