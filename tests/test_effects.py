"""The generic effects procedures declare in YAML (bot/effects/): the registry, and the problems
``dvcbot catalog check`` finds in their arguments without running anything."""
from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.effects import REGISTRY, validate_catalog
from dialogs.catalog import PROCEDURES_DIR, Catalog

REG, CHG = "nhan-tro-cap-qua-tai-khoan", "bao-thay-doi-nhan-tro-cap"


def test_every_effect_is_registered_with_a_stage():
    assert set(REGISTRY) == {"register.absent", "register.present", "register.add", "register.update",
                             "register.close", "register.confirm_change", "identity.verify", "register.export"}
    assert {m.STAGE for m in REGISTRY.values()} == {"check", "submit", "export"}


def test_the_catalogue_declares_valid_effects():
    cat = Catalog.load()
    assert validate_catalog(cat) == []
    assert cat.get(REG).effects.checks and cat.get(CHG).effects.submit and cat.get(REG).effects.exports
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["catalog", "check"]) == 0
    assert "0 problems" in out.getvalue()


def _with_effects(tmp_path: Path, pid: str, edit) -> Catalog:
    """A catalogue in which one procedure's ``effects`` were edited."""
    for other in (REG, CHG):  # they name each other
        shutil.copy(PROCEDURES_DIR / f"{other}.yaml", tmp_path / f"{other}.yaml")
    path = tmp_path / f"{pid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["effects"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cat = Catalog.load(tmp_path)
    assert cat.errors == []
    return cat


def _problems(tmp_path: Path, pid: str, edit) -> list[str]:
    return validate_catalog(_with_effects(tmp_path, pid, edit))


def test_unknown_effect(tmp_path: Path):
    def edit(e):
        e["submit"].append({"effect": "register.explode", "args": {}})
    [p] = _problems(tmp_path, REG, edit)
    assert p.startswith(f"{REG}: effects.submit[2]: unknown effect 'register.explode' (known: identity.verify, ")


def test_effect_in_the_wrong_list(tmp_path: Path):
    def edit(e):
        e["checks"].append({"effect": "register.add", "after": ["beneficiary.id_number"], "args": {}})
    assert _problems(tmp_path, REG, edit) == [
        f"{REG}: effects.checks[1]: register.add is a submit effect, not for effects.checks"]


def test_unknown_field_paths(tmp_path: Path):
    def edit(e):
        e["submit"][0]["args"]["columns"]["phone"] = "beneficiary.telephone"
        e["checks"][0]["after"] = ["beneficiary.cccd"]
        e["submit"][1]["args"]["person"]["birth_date"] = "rep.born"
    assert _problems(tmp_path, REG, edit) == [
        f"{REG}: effects.checks[0]: after: unknown field path 'beneficiary.cccd'",
        f"{REG}: effects.submit[0]: register.add: columns.phone: unknown field path 'beneficiary.telephone'",
        f"{REG}: effects.submit[1]: identity.verify: person.birth_date: unknown field path 'rep.born'",
    ]


def test_missing_and_unknown_arguments(tmp_path: Path):
    def edit(e):
        del e["checks"][0]["args"]["key"]
        e["checks"][0]["args"]["colour"] = "red"
        del e["submit"][3]["args"]["message"]  # needed: the registering chat's own report takes effect at once
        del e["submit"][2]["args"]["close"]
        e["submit"][2]["args"]["confirm_by"] = ["officer", "neighbour"]
    assert _problems(tmp_path, CHG, edit) == [
        f"{CHG}: effects.checks[0]: register.present: unknown argument 'colour'",
        f"{CHG}: effects.checks[0]: register.present: missing argument 'key'",
        (f"{CHG}: effects.submit[2]: register.confirm_change: needs columns to change or a status to close "
         "with (close)"),
        f"{CHG}: effects.submit[2]: register.confirm_change: confirm_by: unknown 'neighbour' (known: chat, officer)",
        f"{CHG}: effects.submit[3]: register.confirm_change: missing argument 'message'",
    ]


def test_update_and_close_without_confirmation(tmp_path: Path):
    """register.update and register.close apply at once (for changes that move no money)."""
    def edit(e):
        e["submit"] += [
            {"effect": "register.update", "when": "change.kind == 'benefit_level'",
             "args": {"register": "beneficiaries", "key": "beneficiary.id_number", "kind": "benefit_level",
                      "columns": {"benefit_note": "level.description"}, "message": "Đã ghi nhận.",
                      "missing_message": "Không tìm thấy."}},
            {"effect": "register.close", "args": {"register": "beneficiaries", "key": "beneficiary.id_number",
                                                  "kind": "moved", "status": "active", "data": {"date": "moved.day"}}},
        ]
    assert _problems(tmp_path, CHG, edit) == [
        f"{CHG}: effects.submit[5]: register.close: missing argument 'missing_message'",
        f"{CHG}: effects.submit[5]: register.close: data.date: unknown field path 'moved.day'",
        f"{CHG}: effects.submit[5]: register.close: status: closing a row cannot leave it active",
        f"{CHG}: effects.submit[5]: register.close: missing argument 'message'",
    ]


def test_registers_columns_placeholders_procedures_and_conditions(tmp_path: Path):
    def edit(e):
        e["checks"][0]["args"]["suggest"] = "khong-co-thu-tuc-nay"
        e["checks"][0]["args"]["same"][0]["column"] = "nickname"
        e["submit"][0]["when"] = "change.kind =="
        e["submit"][0]["args"]["pending_message"] += " {colour}"
        e["submit"][1]["args"]["register"] = "pensioners"
        e["submit"][3]["args"]["columns"]["status"] = "level.description"
    problems = _problems(tmp_path, CHG, edit)
    assert f"{CHG}: effects.checks[0]: register.present: suggest: unknown procedure 'khong-co-thu-tuc-nay'" \
        in problems
    assert f"{CHG}: effects.checks[0]: register.present: same[0]: register 'beneficiaries' has no column " \
        "'nickname'" in problems
    assert any(p.startswith(f"{CHG}: effects.submit[0]: when: ") for p in problems)
    assert f"{CHG}: effects.submit[0]: register.confirm_change: pending_message: unknown placeholder {{colour}} " \
        "(known: account, bank, days)" in problems
    assert f"{CHG}: effects.submit[1]: register.confirm_change: unknown register 'pensioners' (known: beneficiaries)" \
        in problems
    assert f"{CHG}: effects.submit[3]: register.confirm_change: columns: register 'beneficiaries' has no column " \
        "'status' for answers" in problems
    assert len(problems) == 6, problems


def test_export_columns(tmp_path: Path):
    def edit(e):
        cols = e["exports"][0]["args"]["columns"]
        cols.append({"key": "stt", "label": "STT", "source": "row_number"})  # columns[19]
        cols.append({"key": "x", "label": "X", "column": "shoe_size", "format": "roman"})
        cols.append({"key": "y", "label": "Y"})
    problems = _problems(tmp_path, REG, edit)
    where = f"{REG}: effects.exports[0]: register.export"
    assert problems == [f"{where}: columns[19]: duplicate key 'stt'",
                        f"{where}: columns[20]: unknown format 'roman'",
                        f"{where}: columns[20]: register 'beneficiaries' has no column 'shoe_size'",
                        f"{where}: columns[21]: needs either a column or a source"]


def test_an_export_labels_every_option_of_its_column(tmp_path: Path):
    """The list's “Loại trợ cấp” had no text for the social pension (added to the question later): the officer's
    list showed “huu_tri_xa_hoi”. A labelled column must name every option of the question it is filled from."""
    def edit(e):
        col = next(c for c in e["exports"][0]["args"]["columns"] if c["key"] == "allowance_type")
        del col["labels"]["huu_tri_xa_hoi"]
    assert _problems(tmp_path, REG, edit) == [
        f"{REG}: effects.exports[0]: register.export: columns[6]: labels has no text for 'huu_tri_xa_hoi', an option "
        "of the question this column is filled from"]


@pytest.mark.parametrize("pid", [REG, CHG])
def test_no_procedure_needs_effects(tmp_path: Path, pid: str):
    """Effects are optional: without them a procedure is a plain dossier."""
    def edit(e):
        e.clear()
    assert _problems(tmp_path, pid, edit) == []


# ---------------------------------------------------------------------------------------------
# register.update and register.close run: a procedure that declares them changes the register at once
# ---------------------------------------------------------------------------------------------
def _without_confirmation(e) -> None:
    """The change procedure with a move closing the row and a benefit level updating it at once."""
    common = {"register": "beneficiaries", "key": "beneficiary.id_number", "missing_message": "Không tìm thấy."}
    e["submit"] = [c for c in e["submit"] if c["when"] not in ("change.kind == 'moved'",
                                                               "change.kind == 'benefit_level'")]
    e["submit"] += [
        {"effect": "register.close", "when": "change.kind == 'moved'",
         "args": {**common, "kind": "moved", "status": "moved", "data": {"date": "moved.date"},
                  "message": "Đã ghi nhận."}},
        {"effect": "register.update", "when": "change.kind == 'benefit_level'",
         "args": {**common, "kind": "benefit_level", "message": "Đã ghi nhận.",
                  "columns": {"benefit_note": {"path": "level.description", "max_len": 20}}}},
    ]


async def test_update_and_close_change_the_register_at_once(db_url, tmp_path: Path, clock):
    from sqlalchemy import select

    from bot.service import Runtime
    from storage.allowance_models import AllowanceChange
    from tests.conftest import Chat
    from tests.test_allowances import benef_rows, change_residence, family_reporter, register_self, start_change, submit

    (tmp_path / "cat").mkdir()
    cat = _with_effects(tmp_path / "cat", CHG, _without_confirmation)
    assert validate_catalog(cat) == []
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=cat)
    await rt.open()
    try:
        owner = await Chat(rt, "console:owner").start()
        await register_self(owner)
        other = await Chat(rt, "console:other").start()
        await start_change(other, "benefit_level", reporter="family")
        await change_residence(other)
        await family_reporter(other)
        await other.expect("level.description")
        await other.say("Tăng mức hưởng theo quyết định 12/QĐ-UBND")
        await other.expect("level.decision")
        await other.say("bỏ qua")
        await submit(other)
        [b] = await benef_rows(rt)
        assert (b.status, b.benefit_note) == ("active", "Tăng mức hưởng theo ")  # max_len 20
        await start_change(other, "moved", reporter="family")
        await change_residence(other)
        await family_reporter(other)
        await other.expect("moved.date")
        await other.say("01/12/2026")
        await other.say("Phường Xuân Hương, Lâm Đồng")
        await submit(other)
        assert "Đã ghi nhận." in other.text()
        [b] = await benef_rows(rt)
        assert b.status == "moved"
        async with rt.sm() as db:
            changes = list((await db.execute(select(AllowanceChange).order_by(AllowanceChange.id))).scalars())
        assert [(c.kind, c.status, c.reported_by) for c in changes] == [
            ("benefit_level", "recorded", "console:other"), ("moved", "recorded", "console:other")]
        assert changes[1].data == {"date": "2026-12-01"}
    finally:
        await rt.close()


def test_each_check_is_a_named_database_check_of_the_pipeline():
    from bot import app

    checks = app.build_pipeline().checks
    assert {"register.absent", "register.present"} <= set(checks)


async def test_a_run_check_request_is_answered_by_the_effect(runtime):
    """The engine's ``RunCheck(name, args)`` gets the same answer as the after-step check."""
    from bot.pipeline import Turn
    from dialogs.messages import Incoming
    from dialogs.protocol import RunCheck
    from tests.conftest import Chat
    from tests.test_allowances import BEN_ID, register_self, start_registration

    owner = await Chat(runtime, "console:owner").start()
    first = await register_self(owner)
    other = await Chat(runtime, "console:other").start()
    await start_registration(other)
    args = Catalog.load().get(REG).effects.checks[0].args
    check = runtime.pipeline.checks["register.absent"]
    async with runtime.sm() as db, db.begin():
        turn = Turn(orm=db, user_key="console:other", message=Incoming(text=""), now=runtime.now(), runtime=runtime)
        session = await turn.load_session()
        session.draft.answers["beneficiary.id_number"] = BEN_ID
        refused = await check(turn, session, RunCheck("register.absent", dict(args)))
        session.draft.answers["beneficiary.id_number"] = "068050009999"
        passed = await check(turn, session, RunCheck("register.absent", dict(args)))
    assert (refused.name, refused.ok, refused.data) == ("register.absent", False,
                                                        {"drop": "beneficiary.id_number", "suggest": CHG})
    assert "đã đăng ký nhận trợ cấp qua tài khoản" in refused.message and first not in refused.message
    assert passed.ok and passed.message is None
