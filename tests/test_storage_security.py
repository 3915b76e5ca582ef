"""Storage at rest: keyed hashes of ID numbers, the key file, private files (reliability findings D7)."""
from __future__ import annotations

import hashlib
import json
import stat
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import crypto, keys
from storage.attachments import LocalAttachmentStore
from storage.db import make_engine, upgrade
from storage.officers_repo import person_key
from tests.conftest import jpeg

CCCD = "068075001234"


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_person_key_is_keyed_and_not_a_plain_hash(monkeypatch):
    plain = hashlib.sha256(("person:" + CCCD).encode()).hexdigest()
    k1 = person_key(CCCD)
    assert k1 != plain and len(k1) == 64
    assert person_key("068 075 001 234") == k1  # same person, however typed
    # the probe: try every CCCD of that province, sex/century and birth year — without the key, nothing matches
    candidates = {hashlib.sha256(("person:068075" + f"{n:06d}").encode()).hexdigest() for n in range(1000, 2000)}
    assert k1 not in candidates
    monkeypatch.setenv(keys.ENV_KEY, "another-deployment-key-0123456789abcdef")
    assert person_key(CCCD) != k1


def test_a_short_key_is_refused(monkeypatch):
    monkeypatch.setenv(keys.ENV_KEY, "short")
    with pytest.raises(keys.KeyProblem):
        person_key(CCCD)


def test_console_default_generates_a_private_key_file_once(monkeypatch, tmp_path: Path):
    monkeypatch.delenv(keys.ENV_KEY, raising=False)
    monkeypatch.delenv(keys.ENV_KEY_FILE, raising=False)
    keys.configure(tmp_path / "var")
    try:
        k1 = person_key(CCCD)
        f = tmp_path / "var" / "secret.key"
        assert f.exists() and mode(f) == 0o600 and mode(f.parent) == 0o700
        assert CCCD not in f.read_text()
        assert person_key(CCCD) == k1  # stable across calls
        keys._cached = None
        assert person_key(CCCD) == k1  # and across processes (read back from the file)
    finally:
        keys.configure(None)


async def test_sqlite_file_and_attachment_store_are_private(tmp_path: Path):
    db = tmp_path / "data" / "dvcbot.db"
    await upgrade(f"sqlite:///{db}")
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if extra.exists():
            assert mode(extra) & 0o077 == 0
    store = LocalAttachmentStore(tmp_path / "var" / "attachments")
    sha = store.put(jpeg(1))
    assert mode(store.root) == 0o700 and mode(store.path(sha).parent) == 0o700 and mode(store.path(sha)) == 0o600
    # an existing world-readable database (made by an older version) is tightened when opened
    old = tmp_path / "old.db"
    old.write_bytes(b"")
    old.chmod(0o644)
    make_engine(f"sqlite:///{old}")
    assert mode(old) == 0o600


async def test_migration_rewrites_old_plain_hashes(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    await upgrade(url, "0004")
    await upgrade(url, "0005")
    old = lambda idn: hashlib.sha256(("person:" + idn).encode()).hexdigest()  # noqa: E731
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text(
            "INSERT INTO dossiers (id, code, idempotency_key, procedure_id, procedure_version, agency, submitter_key,"
            " answers, lang, status, submitted_at, due_date) VALUES (1, 'MT-1', 'k1', 'p', 1, 'ubnd', 'console:a',"
            " :a, 'vi', 'submitted', '2026-11-23 09:00:00', '2026-11-30')"),
            {"a": json.dumps({"applicant.id_number": CCCD, "members": [{"id_number": "001099000111"}]})})
        c.execute(sa.text("INSERT INTO chat_links (person_key, user_key, created_at) VALUES "
                          "(:a, 'telegram:1', '2026-11-23'), (:b, 'telegram:2', '2026-11-23'),"
                          " (:c, 'telegram:3', '2026-11-23')"),
                  {"a": old(CCCD), "b": old("001099000111"), "c": old("999999999999")})
    await upgrade(url)
    with eng.begin() as c:
        rows = dict(c.execute(sa.text("SELECT user_key, person_key FROM chat_links")).all())
    eng.dispose()
    assert rows == {"telegram:1": person_key(CCCD), "telegram:2": person_key("001099000111")}


# -- encryption at rest ---------------------------------------------------------------------------------------
def test_long_values_are_compressed_before_encryption_and_old_values_still_read(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())
    crypto.forget_cached_keys()
    try:
        answers = json.dumps({f"f{i}": "Nguyễn Văn An, Thôn 3, xã Đức Trọng, Lâm Đồng" for i in range(20)},
                             ensure_ascii=False)
        stored = crypto.encrypt_text(answers)
        plain_token = crypto.PREFIX + crypto.cipher().encrypt(answers.encode()).decode()
        assert stored.startswith("enc:4:") and len(stored) < len(plain_token) / 2
        assert crypto.decrypt_text(stored) == answers and crypto.is_current(stored)
        assert crypto.encrypt_text(answers) != stored  # a fresh nonce every time
        short = crypto.encrypt_text(CCCD)  # compressing would make it longer
        assert short.startswith("enc:3:") and crypto.decrypt_text(short) == CCCD and len(short) < 70
        # as written before 05/12/2026 (Fernet): still read, and stale, so that re-encryption rewrites them
        for old in (crypto.PREFIX + crypto.cipher().encrypt(answers.encode()).decode(),
                    crypto.PREFIX_ZLIB + crypto.cipher().encrypt(zlib.compress(answers.encode())).decode()):
            assert crypto.decrypt_text(old) == answers and not crypto.is_current(old)
            assert crypto.EncryptedJSON().process_result_value(old, None) == json.loads(answers)
    finally:
        crypto.forget_cached_keys()


def test_a_token_cannot_be_altered_or_relabelled(monkeypatch):
    """AES-GCM authenticates the ciphertext and its prefix: a changed byte, a token passed off under the other
    prefix, a cut or garbled token, and a token under an unknown key are refused, never read as something else."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())
    crypto.forget_cached_keys()
    try:
        token = crypto.encrypt_text(CCCD)
        body = token[len(crypto.PREFIX_GCM):]
        flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
        for bad in (crypto.PREFIX_GCM + flipped, crypto.PREFIX_GCM_ZLIB + body, crypto.PREFIX_GCM + body[:10],
                    crypto.PREFIX_GCM + "!!not base64!!", crypto.PREFIX_GCM):
            with pytest.raises(crypto.DataKeyProblem):
                crypto.decrypt_text(bad)
            assert not crypto.is_current(bad)
        monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())
        crypto.forget_cached_keys()
        with pytest.raises(crypto.DataKeyProblem):
            crypto.decrypt_text(token)
    finally:
        crypto.forget_cached_keys()


async def test_answers_and_account_numbers_are_encrypted_at_rest(runtime, tmp_path: Path):
    from tests.conftest import Chat
    from tests.test_conversation_funeral import fill_household, fill_until_organizer, finish

    chat = await Chat(runtime).start()
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    async with runtime.sm() as db:  # the draft, mid-way
        [raw] = (await db.execute(sa.text("SELECT answers FROM drafts"))).scalars().all()
    assert CCCD not in str(raw) and "enc:4:" in str(raw) and "Nghĩa trang" not in str(raw)  # compressed
    await chat.press("confirm")
    await chat.press("yes")
    assert chat.dossier
    async with runtime.sm() as db:
        [raw] = (await db.execute(sa.text("SELECT answers FROM dossiers"))).scalars().all()
        from storage.repo import DossierRepo
        [d] = await DossierRepo(db).list()
    assert CCCD not in str(raw) and str(raw).lstrip('"').startswith("enc:4:")
    assert d.answers["applicant.id_number"] == CCCD  # callers see plain values
    url = runtime.db_engine.url
    if url.get_backend_name() == "sqlite":
        db_file = Path(url.database)
        data = db_file.read_bytes() + (Path(f"{db_file}-wal").read_bytes() if Path(f"{db_file}-wal").exists() else b"")
        assert CCCD.encode() not in data and b"068 075 001 234" not in data


async def test_data_key_rotation(monkeypatch, tmp_path: Path):
    from cryptography.fernet import Fernet

    from storage import crypto
    from storage.db import reencrypt

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv(crypto.ENV_KEYS, old)
    crypto.forget_cached_keys()
    await upgrade(url)
    eng = sa.create_engine(url)
    t = sa.table("drafts", sa.column("id"), sa.column("user_key"), sa.column("procedure_id"),
                 sa.column("procedure_version"), sa.column("answers", crypto.EncryptedJSON()),
                 sa.column("history", sa.JSON), sa.column("revision"), sa.column("created_at"),
                 sa.column("updated_at"))
    with eng.begin() as c:
        c.execute(t.insert().values(id="d1", user_key="console:a", procedure_id="p", procedure_version=1,
                                    answers={"applicant.id_number": CCCD}, history=[], revision=1,
                                    created_at="2026-11-23 09:00:00", updated_at="2026-11-23 09:00:00"))
    raw = lambda: eng.connect().execute(sa.text("SELECT answers FROM drafts")).scalar_one()  # noqa: E731
    before = raw()
    # the new key first, the old one after it: old rows still read, then everything is re-encrypted
    monkeypatch.setenv(crypto.ENV_KEYS, f"{new},{old}")
    crypto.forget_cached_keys()
    assert eng.connect().execute(sa.select(t.c.answers)).scalar_one() == {"applicant.id_number": CCCD}
    assert await reencrypt(url) == 1
    assert raw() != before and await reencrypt(url) == 0  # nothing left under the old key
    monkeypatch.setenv(crypto.ENV_KEYS, new)  # the old key can go
    crypto.forget_cached_keys()
    assert eng.connect().execute(sa.select(t.c.answers)).scalar_one() == {"applicant.id_number": CCCD}
    monkeypatch.setenv(crypto.ENV_KEYS, old)  # and it no longer reads anything
    crypto.forget_cached_keys()
    with pytest.raises(crypto.DataKeyProblem):
        eng.connect().execute(sa.select(t.c.answers)).scalar_one()
    eng.dispose()
    crypto.forget_cached_keys()


async def test_values_in_the_older_layout_are_rewritten_by_reencrypt(monkeypatch, tmp_path: Path):
    """Rows written under Fernet (enc:1, enc:2) before the AES-GCM layout read as they are, and ``dvcbot db
    reencrypt`` rewrites them in the current layout under the same key."""
    from cryptography.fernet import Fernet

    from storage.db import reencrypt

    monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())
    crypto.forget_cached_keys()
    url = f"sqlite:///{tmp_path / 'l.db'}"
    await upgrade(url)
    answers = json.dumps({"applicant.id_number": CCCD, "deceased.full_name": "NGUYỄN VĂN AN " * 8})
    old = crypto.PREFIX_ZLIB + crypto.cipher().encrypt(zlib.compress(answers.encode())).decode()
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text("INSERT INTO drafts (id, user_key, procedure_id, procedure_version, answers, history, "
                          "revision, created_at, updated_at) VALUES ('d1', 'console:a', 'p', 1, :a, '[]', 1, "
                          "'2026-11-23 09:00:00', '2026-11-23 09:00:00')"), {"a": json.dumps(old)})
    t = sa.table("drafts", sa.column("answers", crypto.EncryptedJSON()))
    try:
        with eng.connect() as c:
            assert c.execute(sa.select(t.c.answers)).scalar_one() == json.loads(answers)
        assert await reencrypt(url) == 1 and await reencrypt(url) == 0
        with eng.connect() as c:
            raw = json.loads(c.execute(sa.text("SELECT answers FROM drafts")).scalar_one())
            assert raw.startswith("enc:4:") and c.execute(sa.select(t.c.answers)).scalar_one() == json.loads(answers)
    finally:
        eng.dispose()
        crypto.forget_cached_keys()


async def test_migration_encrypts_existing_rows(tmp_path: Path):
    from storage import crypto

    url = f"sqlite:///{tmp_path / 'e.db'}"
    await upgrade(url, "0007_inbox_chat_order")
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text(
            "INSERT INTO dossiers (id, code, idempotency_key, procedure_id, procedure_version, agency, submitter_key,"
            " answers, lang, status, submitted_at, due_date) VALUES (1, 'MT-1', 'k1', 'p', 1, 'ubnd', 'console:a',"
            " :a, 'vi', 'submitted', '2026-11-23 09:00:00', '2026-11-30')"),
            {"a": json.dumps({"applicant.id_number": CCCD})})
    await upgrade(url)
    with eng.connect() as c:
        raw = c.execute(sa.text("SELECT answers FROM dossiers")).scalar_one()
        t = sa.table("dossiers", sa.column("answers", crypto.EncryptedJSON()))
        plain = c.execute(sa.select(t.c.answers)).scalar_one()
    eng.dispose()
    assert CCCD not in raw and "enc:3:" in raw
    assert plain == {"applicant.id_number": CCCD}


def test_a_plain_file_name_is_a_sqlite_database(tmp_path):
    """``dvcbot chat --db var/test.db``: a file name, not a URL, names a SQLite file (it used to end in a
    traceback from the URL parser)."""
    from storage.db import database_url

    assert database_url(str(tmp_path / "c.db")) == f"sqlite+aiosqlite:///{tmp_path}/c.db"
    assert database_url("var/c.db") == "sqlite+aiosqlite:///var/c.db"
    assert database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
