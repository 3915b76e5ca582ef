"""The attachment store: one contract for the local folder and an S3-compatible bucket (a fake S3 server on
127.0.0.1, tests/fakes/s3_api.py, spoken to by boto3), and a citizen's papers kept in a bucket end to end."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import formcopy
from bot.console import render_human, render_jsonl
from bot.notifier import MemorySender, Notifier
from bot.retention import RetentionPolicy, purge
from bot.service import Runtime
from bot.telegram.channel import TelegramChannel, TelegramConfig
from bot.zalo.files import FileLinks
from dialogs import lifecycle as lc
from dialogs.messages import FileRef, Incoming, Message, reply_from_json, reply_to_json
from storage.attachments import AttachmentStore, LocalAttachmentStore, S3AttachmentStore, open_store
from storage.models import Attachment, Dossier
from tests.conftest import Chat, jpeg, pdf, shared_catalog
from tests.fakes.s3_api import FakeS3
from tests.fakes.telegram_api import FakeTelegramAPI

BUCKET, PREFIX = "dvcbot-test", "tinh-lam-dong/attachments"
KEY = re.compile(rf"^/{BUCKET}/{PREFIX}/([0-9a-f]{{2}})/\1[0-9a-f]{{62}}$")


@pytest.fixture
def fake_s3():
    server = FakeS3(BUCKET).start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(fake_s3: FakeS3, monkeypatch, tmp_path: Path) -> FakeS3:
    """The environment of a process configured for the bucket, as docs/deploy.md says; nothing read from the
    machine's own AWS configuration."""
    for name, value in {"DVCBOT_ATTACHMENTS": f"s3://{BUCKET}/{PREFIX}", "DVCBOT_S3_ENDPOINT": fake_s3.url,
                        "AWS_ACCESS_KEY_ID": fake_s3.access_key, "AWS_SECRET_ACCESS_KEY": "test-secret",
                        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}.items():
        monkeypatch.setenv(name, value)
    return fake_s3


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path, monkeypatch) -> AttachmentStore:
    if request.param == "local":
        monkeypatch.delenv("DVCBOT_ATTACHMENTS", raising=False)
        return open_store(var_dir=tmp_path / "var")
    request.getfixturevalue("s3_env")
    return open_store()


def age(store: AttachmentStore, sha: str, seconds: float, request) -> None:
    """Make a stored file look ``seconds`` old."""
    when = time.time() - seconds
    if isinstance(store, LocalAttachmentStore):
        os.utime(store.path(sha), (when, when))
    else:
        fake: FakeS3 = request.getfixturevalue("fake_s3")
        fake.objects[store.key(sha)].modified = datetime.fromtimestamp(when, UTC)


def damage(store: AttachmentStore, sha: str, request) -> None:
    if isinstance(store, LocalAttachmentStore):
        store.path(sha).chmod(0o600)
        store.path(sha).write_bytes(b"not the photo")
    else:
        request.getfixturevalue("fake_s3").objects[store.key(sha)].data = b"not the photo"


# -- the contract, for both stores ------------------------------------------------------------
def test_put_get_exists_delete(store: AttachmentStore):
    sha = store.put(jpeg(1))
    assert sha == hashlib.sha256(jpeg(1)).hexdigest()
    assert store.get(sha) == jpeg(1) and store.exists(sha)
    assert store.put(jpeg(1)) == sha  # the same bytes again: the same file
    other = hashlib.sha256(pdf()).hexdigest()
    store.put_known(other, pdf())
    assert store.get(other) == pdf()
    store.delete(sha)
    assert not store.exists(sha) and store.exists(other)
    store.delete(sha)  # gone already: nothing happens
    with pytest.raises(FileNotFoundError):
        store.get(sha)
    assert store.delete_many([other, sha]) == 2 and not store.exists(other)


def test_only_digests_name_files(store: AttachmentStore):
    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, "giay-bao-tu.jpg", "ab" * 32 + "/x"):
        for call in (store.get, store.exists, store.delete, store.locate):
            with pytest.raises(ValueError):
                call(bad)
        with pytest.raises(ValueError):
            store.put_known(bad, b"x")
    assert store.delete_many(["../x"]) == 0  # logged and left, never fatal


def test_a_damaged_file_is_never_served(store: AttachmentStore, request):
    sha = store.put(jpeg(2))
    damage(store, sha, request)
    with pytest.raises(OSError, match="does not match"):
        store.get(sha)


def test_digests_lists_the_old_files_only(store: AttachmentStore, request):
    old, fresh = store.put(jpeg(3)), store.put(jpeg(4))
    age(store, old, 3 * 86400, request)
    assert set(store.digests(time.time() - 86400)) == {old}
    assert set(store.digests(time.time() + 60)) == {old, fresh}
    store.put(jpeg(3))  # sent again: recent again (the purge spares it)
    assert set(store.digests(time.time() - 86400)) == set()


async def test_retention_purges_orphans_from_either_store(store: AttachmentStore, request, db_url, tmp_path, clock):
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog(), attachments=store)
    await rt.open(migrate=False)
    try:
        orphan, fresh = store.put(jpeg(5)), store.put(jpeg(6))
        age(store, orphan, 3 * 86400, request)
        async with rt.sm() as db, db.begin():
            done = await purge(db, datetime.now(UTC), store=store, policy=RetentionPolicy())
        assert done["files_deleted"] == 1 and not store.exists(orphan) and store.exists(fresh)
    finally:
        await rt.close()


def test_locate_says_where_a_person_finds_the_file(store: AttachmentStore, tmp_path: Path):
    sha = store.put(jpeg(7))
    if isinstance(store, LocalAttachmentStore):
        assert Path(store.locate(sha)) == tmp_path / "var" / "attachments" / sha[:2] / sha
    else:
        assert store.locate(sha) == f"s3://{BUCKET}/{PREFIX}/{sha[:2]}/{sha}"


def test_a_file_reply_names_its_file_by_digest_and_the_console_says_where_it_is(store: AttachmentStore):
    sha = store.put(pdf())
    reply = Message("📄 Tờ khai", file=FileRef(sha256=sha, name="MT-1.pdf", mime="application/pdf"))
    assert reply_from_json(reply_to_json(reply)) == reply
    assert reply.to_dict()["file"] == {"sha256": sha, "name": "MT-1.pdf", "mime": "application/pdf"}
    assert store.locate(sha) in render_human([reply], locate=store.locate)
    assert json.loads(render_jsonl([reply], store.locate)[0])["file"]["path"] == store.locate(sha)
    # a reply stored before files were named by digest (a local path) is read by its digest
    old = {"type": "message", "text": "x", "error": False, "dossier": None, "file": {
        "path": f"/srv/var/attachments/{sha[:2]}/{sha}", "name": "MT-1.pdf", "mime": "application/pdf"}}
    assert reply_from_json(old).file.sha256 == sha  # type: ignore[union-attr]


# -- the bucket ----------------------------------------------------------------------------------
def test_bucket_keys_are_digests_and_every_call_is_signed(s3_env: FakeS3):
    store = open_store()
    assert isinstance(store, S3AttachmentStore) and store.addressing == "path"
    shas = [store.put(jpeg(n)) for n in range(3)]
    store.get(shas[0])
    store.exists(shas[1])
    store.delete(shas[2])
    objects = [r for r in s3_env.requests if r.query == ""]
    assert objects and all(KEY.match(r.path) for r in objects)
    assert {r.method for r in objects} == {"PUT", "GET", "HEAD", "DELETE"}


def test_bucket_listing_follows_its_pages(s3_env: FakeS3):
    s3_env.page_size = 2
    store = open_store()
    shas = {store.put(jpeg(n)) for n in range(5)}
    s3_env.objects[f"{PREFIX}/README"] = s3_env.objects[f"{PREFIX}/{min(shas)[:2]}/{min(shas)}"]  # not ours
    s3_env.objects["elsewhere/ab/" + "ab" * 32] = s3_env.objects[f"{PREFIX}/README"]  # outside the prefix
    assert set(store.digests(time.time() + 60)) == shas
    assert len([r for r in s3_env.requests if "list-type=2" in r.query]) == 3


def test_an_unreachable_or_refusing_bucket_is_an_os_error(s3_env: FakeS3, monkeypatch):
    store = open_store()
    sha = store.put(jpeg(8))
    s3_env.deny()
    for call in (store.get, store.exists, store.delete):
        with pytest.raises(OSError) as err:
            call(sha)
        assert not isinstance(err.value, FileNotFoundError) and sha not in str(err.value)
    s3_env.allow()
    monkeypatch.setenv("DVCBOT_S3_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    down = open_store()
    with pytest.raises(OSError):
        down.get(sha)
    wrong = S3AttachmentStore("another-bucket", endpoint_url=s3_env.url)
    with pytest.raises(OSError):
        wrong.put(jpeg(8))


def test_open_store_reads_its_configuration(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DVCBOT_ATTACHMENTS", raising=False)
    monkeypatch.delenv("DVCBOT_S3_ENDPOINT", raising=False)
    assert open_store(var_dir=tmp_path).root == tmp_path / "attachments"  # type: ignore[attr-defined]
    assert open_store(f"file://{tmp_path}/files").root == tmp_path / "files"  # type: ignore[attr-defined]
    assert open_store(str(tmp_path / "files")).root == tmp_path / "files"  # type: ignore[attr-defined]
    s3 = open_store("s3://bucket")
    assert isinstance(s3, S3AttachmentStore) and s3.prefix == "" and s3.addressing == "auto"
    assert s3.key("ab" * 32) == f"ab/{'ab' * 32}"
    for bad in ("s3://", "s3:///prefix", "ftp://host/x", "https://bucket.example/x"):
        with pytest.raises(ValueError):
            open_store(bad)
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    with pytest.raises(RuntimeError, match="dvcbot\\[s3\\]"):  # at start, not at the first photo
        open_store("s3://bucket/prefix")


def test_the_local_default_does_not_load_boto3(tmp_path: Path):
    code = ("import sys; from bot.service import Runtime; from bot import console, cli; "
            f"rt = Runtime('sqlite+aiosqlite:///{tmp_path}/x.db', var_dir='{tmp_path}/var'); "
            "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 loaded'")
    env = {k: v for k, v in os.environ.items() if k != "DVCBOT_ATTACHMENTS"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# -- end to end: a citizen's papers in a bucket ----------------------------------------------------
@pytest.fixture
async def s3_runtime(s3_env: FakeS3, db_url, tmp_path, clock):
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())  # DVCBOT_ATTACHMENTS
    await rt.open(migrate=False)
    try:
        yield rt
    finally:
        await rt.close()


async def test_a_citizens_photos_live_in_the_bucket_from_upload_to_erasure(s3_runtime: Runtime, s3_env: FakeS3,
                                                                           tmp_path: Path):
    from tests.test_conversation_funeral import fill_household, fill_until_organizer, finish
    from tests.test_data_rights import draft_with_photo
    from tests.test_officers import chat_key, leg_of, officer
    rt = s3_runtime
    assert isinstance(rt.attachments, S3AttachmentStore)
    chat = await Chat(rt, "console:citizen").start()
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)  # the papers are photos sent to the chat
    await chat.press("confirm")
    await chat.press("yes")
    code = chat.dossier
    assert code
    async with rt.sm() as db:
        papers = dict((await db.execute(select(Attachment.sha256, Attachment.mime).join(Dossier)
                                        .where(Dossier.code == code))).all())
    assert papers and all(f"{PREFIX}/{sha[:2]}/{sha}" in s3_env.objects for sha in papers)
    assert not (tmp_path / "var" / "attachments").exists()  # nothing on this host's disk

    # the citizen's copy of the form: rendered, stored in the bucket, and sent by Telegram's sender, which reads
    # the bytes back from the bucket (another process could have stored them)
    sender = MemorySender("console")
    copies = Notifier(rt.sm, [sender])
    formcopy.attach(copies, rt)
    assert (await copies.drain()).delivered == 1
    [(_to, payload)] = [(k, p) for k, p in sender.sent if "file" in p]
    assert set(payload["file"]) == {"sha256", "name", "mime"}  # no local path
    form = payload["file"]["sha256"]
    assert s3_env.objects[f"{PREFIX}/{form[:2]}/{form}"].data.startswith(b"%PDF-")
    api = await FakeTelegramAPI().start()
    channel = TelegramChannel(rt, TelegramConfig(token="123456:TEST", api_base=api.base_url, retry_delay=0.05))
    try:
        await channel.sender().send("telegram:4242", payload)
        [doc] = [s for s in api.sent(4242) if s.kind == "document"]
        assert doc.file == rt.attachments.get(form) and doc.file_name == f"{code}.pdf"
    finally:
        await channel.stop(drain=5)
        await api.stop()

    # the officer opens the dossier's files: each read back from the bucket
    desk = await officer(rt, lc.DESK, commune=(await leg_of(rt, code)).commune_code)
    replies = await rt.handle(await chat_key(rt, desk), Incoming(choice=f"files:{code}"))
    files = [m.file for m in replies if isinstance(m, Message) and m.file is not None]
    assert {f.sha256 for f in files if f.mime != "application/pdf" or f.sha256 in papers} >= set(papers)
    assert all(f.sha256 and f.path is None for f in files)
    photos = [await asyncio.to_thread(rt.attachments.get, f.sha256) for f in files if f.mime == "image/jpeg"]
    assert photos and all(p.startswith(b"\xff\xd8") for p in photos)
    [officers_form] = [f for f in files if f.name == f"{code}.pdf"]
    assert rt.attachments.get(officers_form.sha256 or "").startswith(b"%PDF-")
    # on Zalo a file is a signed link served by whichever process gets the request: from the bucket too
    photo = next(f for f in files if f.mime == "image/jpeg")
    links = FileLinks(SimpleNamespace(public_url="http://127.0.0.1", secret="zalo-secret"), rt.attachments)
    app = web.Application()
    app.router.add_get("/zalo/files/{sha}/{exp}/{sig}/{name}", links.serve)
    async with TestClient(TestServer(app)) as http:
        link = urlsplit(links.link(photo.sha256 or "", "MT-1.jpg") or "")
        async with http.get(link.path) as r:
            assert r.status == 200 and await r.read() == rt.attachments.get(photo.sha256 or "")

    # another citizen's draft photo, then /xoadulieu: gone from the bucket; the filed dossier's papers stay
    other, sha = await draft_with_photo(rt, "console:other")
    assert f"{PREFIX}/{sha[:2]}/{sha}" in s3_env.objects
    await other.say("/xoadulieu đồng ý")
    assert "Đã xóa dữ liệu của bạn" in other.text()
    assert f"{PREFIX}/{sha[:2]}/{sha}" not in s3_env.objects and not rt.attachments.exists(sha)
    assert all(rt.attachments.exists(p) for p in papers)
    # no key says whose file it is: digests only, whatever the papers were called
    assert all(KEY.match(r.path) for r in s3_env.requests if r.query == "")
    assert not any("giay" in r.path or "bao-tu" in r.path for r in s3_env.requests)


async def test_a_photo_sent_while_the_bucket_refuses_is_kept_for_nothing_and_can_be_sent_again(
        s3_runtime: Runtime, s3_env: FakeS3):
    from tests.test_conversation_funeral import fill_household, fill_until_organizer
    rt = s3_runtime
    chat = await Chat(rt, "console:citizen").start()
    await fill_until_organizer(chat)
    await fill_household(chat)
    await chat.expect("contact.phone")
    await chat.say("+84 912 345 678")
    await chat.expect("docs.death_notice")
    s3_env.deny()
    with pytest.raises(OSError):  # the channel tries the message again, then asks for it again (docs/deploy.md)
        await chat.send_file(jpeg(11), "giay-bao-tu.jpg")
    assert (await rt.session(chat.user)).draft.answers.get("docs.death_notice") is None  # nothing half-stored
    s3_env.allow()
    await chat.send_file(jpeg(11), "giay-bao-tu.jpg")
    assert "Đã nhận 1 tệp" in chat.ask.text
    sha = hashlib.sha256(jpeg(11)).hexdigest()
    assert rt.attachments.get(sha) == jpeg(11)


async def test_a_file_the_bucket_cannot_give_is_said_so_and_the_other_replies_still_go(s3_runtime: Runtime,
                                                                                       s3_env: FakeS3):
    rt = s3_runtime
    sha = rt.attachments.put(jpeg(12))
    api = await FakeTelegramAPI().start()
    channel = TelegramChannel(rt, TelegramConfig(token="123456:TEST", api_base=api.base_url, retry_delay=0.05))
    try:
        s3_env.deny()
        await channel.deliver(4243, [Message("📎 Giấy báo tử (1)", file=FileRef(sha256=sha, name="a.jpg",
                                                                                  mime="image/jpeg")),
                                     Message("Hồ sơ MT-1")])
        sent = api.sent(4243)
        assert [s.kind for s in sent] == ["text", "text"]
        assert sent[0].text == "📎 Giấy báo tử (1)\n(Tệp này tạm thời không mở được. Vui lòng thử lại sau ít phút.)"
        assert sent[1].text == "Hồ sơ MT-1"
        s3_env.allow()
        await channel.deliver(4243, [Message("📎 Giấy báo tử (1)", file=FileRef(sha256=sha, name="a.jpg",
                                                                                  mime="image/jpeg"))])
        assert api.sent(4243)[-1].kind == "document" and api.sent(4243)[-1].file == jpeg(12)
    finally:
        await channel.stop(drain=5)
        await api.stop()
