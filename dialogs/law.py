"""The legal register: every dated fact of the catalogue, for an officer or a lawyer to review.

``register_markdown(catalog)`` writes docs/law.md (``dvcbot catalog law > docs/law.md``; a test fails
when the file is stale). It lists, per procedure, the clock rule, the dated standards (amounts, income
bands), the facts, the eligibility rules, the legs with their time limits, and the open questions;
then the form versions (dialogs/forms/templates) and the official calendar (dialogs/data/calendar_vn.yaml).
Each line gives the legal source, the period in force, the date that picks the version, whether it was
verified in the legal text, and the review note (never shown to citizens).
"""
from __future__ import annotations

from datetime import date

from .catalog import Catalog
from .schema import Dated, Procedure
from .workdays import OFFICIAL_CALENDAR, OfficialCalendar


def _d(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "…"


def _period(lo: date | None, hi: date | None) -> str:
    return "luôn" if lo is None and hi is None else f"{_d(lo)} – {_d(hi)}"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def _ok(verified: bool) -> str:
    return "có" if verified else "**chưa**"


def _day(d: Dated | None, default: str = "ngày nộp") -> str:
    return f"`{d.date_field}`" if d is not None and d.date_field else default


def _procedure(p: Procedure) -> list[str]:
    out = [f"## {p.title}", "", f"`{p.id}`" + (f" · mã thủ tục {p.national_code}" if p.national_code else ""), ""]
    out.append("Căn cứ pháp lý: " + "; ".join(_cell(x) for x in p.legal_basis))
    out.append("")
    if p.clock:
        out += ["**Thời hạn bắt đầu tính**", "",
                "| Từ | Tính lại sau bổ sung | Hiệu lực | Nguồn | Kiểm chứng | Ghi chú |", "|---|---|---|---|---|---|"]
        for c in p.clock:
            starts = "khi cơ quan tiếp nhận đủ hồ sơ" if c.starts == "desk_receipt" else "khi nộp trên trợ lý"
            out.append(f"| {starts} | {'có' if c.restarts_after_supplement else 'không'} | "
                       f"{_period(c.effective_from, c.effective_to)} | {_cell(c.legal_ref)} | {_ok(c.verified)} | "
                       f"{_cell(c.review_note)} |")
        out.append("")
    if p.standards:
        by = ("`" + p.standards_date + "`") if p.standards_date else "ngày nộp"
        out += [f"**Mức, chuẩn theo thời kỳ** (chọn theo {by})",
                "", "| Chuẩn | Giá trị | Hiệu lực | Nguồn | Kiểm chứng | Ghi chú |", "|---|---|---|---|---|---|"]
        for st in sorted(p.standards, key=lambda s: s.valid_from):
            values = ", ".join(f"{k} = {v:,.0f}".replace(",", ".") for k, v in st.values.items())
            out.append(f"| {_cell(st.name)} | {values} | {_period(st.valid_from, st.valid_to)} | {_cell(st.source)} | "
                       f"{_ok(st.verified)} | {_cell(st.review_note)} |")
        out.append("")
    if p.facts:
        out += ["**Thông tin pháp lý**", "", "| Nội dung | Nguồn | Hiệu lực | Kiểm chứng | Ghi chú |",
                "|---|---|---|---|---|"]
        for f in p.facts:
            key = f"`{f.key}`: " if f.key else ""
            out.append(f"| {key}{_cell(f.text)} | {_cell(f.source) or '**không có nguồn**'} | "
                       f"{_period(f.effective_from, f.effective_to)} | {_ok(f.verified)} | {_cell(f.review_note)} |")
        out.append("")
    if p.eligibility:
        out += ["**Điều kiện, trường hợp loại trừ**", "",
                "| Quy tắc | Dừng khi | Căn cứ | Hiệu lực (theo) | Kiểm chứng | Ghi chú |", "|---|---|---|---|---|---|"]
        for r in p.eligibility:
            out.append(f"| `{r.id}`: {_cell(r.reason)} | `{_cell(r.ineligible_if)}` | {_cell(r.legal_ref)} | "
                       f"{_period(r.effective_from, r.effective_to)} ({_day(r)}) | {_ok(r.verified)} | "
                       f"{_cell(r.review_note)} |")
        out.append("")
    out += ["**Cơ quan, thời hạn (ngày làm việc)**", "",
            "| Phần | Cơ quan | Khi | Thời hạn | Căn cứ | Hiệu lực (theo) | Kiểm chứng | Ghi chú |",
            "|---|---|---|---|---|---|---|---|"]
    if not p.legs:
        out.append(f"| (một phần) | {_cell(p.agency.name)} | luôn | {p.processing_days} | "
                   f"{_cell('; '.join(p.legal_basis))} | luôn | – | {_cell(p.processing_note)} |")
    for leg in p.legs:
        days = str(leg.processing_days) + "".join(
            f"; {r.days} nếu `{_cell(r.when)}`" + (f" ({_period(r.effective_from, r.effective_to)})"
                                                  if r.effective_from or r.effective_to else "")
            for r in leg.days_rules)
        out.append(f"| {_cell(leg.title)} (`{leg.id}`) | {_cell(leg.agency.name)} | "
                   f"{('`' + _cell(leg.when) + '`') if leg.when else 'luôn'} | {days} | "
                   f"{_cell('; '.join(leg.legal_basis)) or '**không có nguồn**'} | "
                   f"{_period(leg.effective_from, leg.effective_to)} ({_day(leg)}) | {_ok(leg.verified)} | "
                   f"{_cell(leg.review_note)} |")
    out.append("")
    if p.unverified:
        out += ["**Câu hỏi còn mở** (chưa kiểm chứng; không hiển thị cho người dân)", ""]
        out += [f"- {_cell(u)}" for u in p.unverified]
        out.append("")
    return out


def _calendar(cal: OfficialCalendar) -> list[str]:
    out = ["## Lịch làm việc chính thức", "",
           "Nguồn dữ liệu: `dialogs/data/calendar_vn.yaml` (cùng thư viện `holidays` cho các ngày lễ cố định).", "",
           "Năm đã ghi nhận lịch chính thức: " + (", ".join(str(y) for y in sorted(cal.official_years)) or "chưa có"),
           "", "| Ngày | Loại | Tên | Nguồn | Kiểm chứng | Ghi chú |", "|---|---|---|---|---|---|"]
    for d in sorted(cal.days, key=lambda x: x["date"]):
        kind = "nghỉ" if d["kind"] == "day_off" else "làm bù"
        out.append(f"| {_d(d['date'])} | {kind} | {_cell(d.get('name'))} | {_cell(d.get('source'))} | "
                   f"{_ok(bool(d.get('verified', True)))} | {_cell(d.get('review_note'))} |")
    for h in cal.holidays:
        out.append(f"| {h['month_day']} (từ {h.get('from')}) | nghỉ hằng năm | {_cell(h.get('name'))} | "
                   f"{_cell(h.get('source'))} | {_ok(bool(h.get('verified', True)))} | {_cell(h.get('review_note'))} |")
    for n in cal.not_holidays:
        out.append(f"| {n['month_day']} (từ {n.get('from')}) | **không nghỉ** | {_cell(n.get('name'))} | "
                   f"{_cell(n.get('source'))} | {_ok(bool(n.get('verified', True)))} | {_cell(n.get('review_note'))} |")
    out.append("")
    for e in cal.estimates:
        out.append(f"- Ước tính {e['year']}: {_cell(e.get('what'))}")
    out.append("")
    return out


def _forms() -> list[str]:
    from .forms.render import form_versions, load_templates  # the renderer needs the catalogue: no cycle
    by_id, _ = load_templates()
    out = ["## Biểu mẫu theo thời kỳ", "",
           "Mỗi tờ khai trợ lý điền là một phiên bản có ngày hiệu lực (dialogs/forms/templates/*.yaml); "
           "phiên bản được chọn theo ngày cơ quan tiếp nhận hồ sơ, nếu chưa có thì ngày nộp.", "",
           "| Mẫu | Tệp | Dùng cho | Hiệu lực | Căn cứ | Kiểm chứng | Rà soát trước | Ghi chú |",
           "|---|---|---|---|---|---|---|---|"]
    seen: set[str] = set()
    for tid in sorted(by_id):
        for t in form_versions(tid, by_id):
            if t.id in seen:
                continue
            seen.add(t.id)
            used = ", ".join(f"`{p}`" for p in t.procedures) or "biểu mẫu của một phần liên thông"
            out.append(f"| {_cell(t.form)} | `{t.id}` | {used} | {_period(t.effective_from, t.effective_to)} | "
                       f"{_cell(t.legal_ref)} | {_ok(t.verified)} | {_d(t.review_by) if t.review_by else ''} | "
                       f"{_cell(t.review_note)} |")
    out.append("")
    return out


def register_markdown(catalog: Catalog, calendar: OfficialCalendar = OFFICIAL_CALENDAR) -> str:
    procs = sorted(catalog.procedures.values(), key=lambda p: (p.menu_order, p.id))
    n_facts = sum(len(p.facts) + len(p.standards) + len(p.eligibility) + len(p.legs) + len(p.clock) for p in procs)
    n_open = sum(sum(1 for x in [*p.facts, *p.standards, *p.eligibility, *p.legs, *p.clock]
                     if not getattr(x, "verified", True)) for p in procs)
    out = ["# Sổ pháp lý (legal register)", "",
           "Tệp này được sinh từ dữ liệu thủ tục (`dialogs/procedures/*.yaml`) bằng lệnh "
           "`dvcbot catalog law > docs/law.md`; đừng sửa tay. Mỗi dòng: nội dung, nguồn pháp lý, thời gian "
           "hiệu lực, ngày dùng để chọn phiên bản (ngày chết, ngày sinh, ngày nộp…), đã kiểm chứng trong văn bản "
           "hay chưa, và ghi chú cho người rà soát (không hiển thị cho người dân).", "",
           f"{len(procs)} thủ tục, {n_facts} mục pháp lý, trong đó {n_open} mục **chưa kiểm chứng**.", ""]
    for p in procs:
        out += _procedure(p)
    out += _forms()
    out += _slips()
    out += _calendar(calendar)
    return "\n".join(out).rstrip() + "\n"


def _slips() -> list[str]:
    """The one-stop desk's slips (dialogs/forms/slip_templates): which form, its basis, period and whether read."""
    from .forms.slips import load_slips
    out = ["## Phiếu của bộ phận một cửa", "",
           "Mẫu giấy tờ bộ phận một cửa in cho hồ sơ (`dialogs/forms/slip_templates/*.yaml`).", "",
           "| Phiếu | Mẫu | Căn cứ | Hiệu lực | Kiểm chứng | Ghi chú |", "|---|---|---|---|---|---|"]
    for t in sorted(load_slips().values(), key=lambda t: t.id):
        out.append(f"| {_cell(t.title)} | {_cell(t.form)} | {_cell(t.legal_basis)} | "
                   f"{_period(t.effective_from, t.effective_to)} | {_ok(t.verified)} | {_cell(' '.join(t.notes))} |")
    return [*out, ""]
