"""person_key becomes an HMAC under the deployment's secret key (storage/keys.py), not a plain SHA-256

The old key, sha256("person:" + ID number), was reversed in under a second. Existing rows are rewritten:

* allowance_beneficiaries keep the ID number, so their key is recomputed from it;
* chat_links and identity_checks hold only the old hash: each old hash is matched against the ID numbers found
  in the dossiers' answers (every ``…id_number`` answer) and the register, and rewritten. A chat link whose
  person no stored dossier names is deleted (it only routed notifications; the person re-links with
  ``/theodoi``); an identity check always names a dossier, so it is always matched.

Merges the two heads 0004 (Zalo) and 0005 (allowances). Not reversible (the old hash is the weakness).

Revision ID: 0006_keyed_person_key
Revises: 0004, 0005
Create Date: 2026-12-04
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.officers_repo import person_key

revision = "0006_keyed_person_key"
down_revision = ("0004", "0005")
branch_labels = None
depends_on = None


def _old(digits: str) -> str:
    return hashlib.sha256(("person:" + digits).encode("utf-8")).hexdigest()


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


def _id_numbers(answers: Any) -> Iterator[str]:
    if isinstance(answers, str):
        try:
            answers = json.loads(answers)
        except ValueError:
            return
    if isinstance(answers, dict):
        for k, v in answers.items():
            if isinstance(v, str) and str(k).endswith("id_number"):
                yield v
            elif isinstance(v, (dict, list)):
                yield from _id_numbers(v)
    elif isinstance(answers, list):
        for v in answers:
            yield from _id_numbers(v)


def upgrade() -> None:
    conn = op.get_bind()
    tables = set(sa.inspect(conn).get_table_names())
    mapping: dict[str, str] = {}

    def learn(value: str | None) -> None:
        if value:
            d = _digits(value)
            if d:
                mapping[_old(d)] = person_key(d)

    if "allowance_beneficiaries" in tables:
        for row_id, idn, rep in conn.execute(sa.text(
                "SELECT id, id_number, rep_id_number FROM allowance_beneficiaries")).all():
            learn(idn)
            learn(rep)
            conn.execute(sa.text("UPDATE allowance_beneficiaries SET person_key = :k WHERE id = :i"),
                         {"k": person_key(idn), "i": row_id})
    for (answers,) in conn.execute(sa.text("SELECT answers FROM dossiers")):
        for idn in _id_numbers(answers):
            learn(idn)
    for table in ("chat_links", "identity_checks"):
        if table not in tables:
            continue
        for row_id, old in conn.execute(sa.text(f"SELECT id, person_key FROM {table}")).all():
            new = mapping.get(old)
            if new is not None:
                conn.execute(sa.text(f"UPDATE {table} SET person_key = :k WHERE id = :i"), {"k": new, "i": row_id})
            elif table == "chat_links":
                conn.execute(sa.text("DELETE FROM chat_links WHERE id = :i"), {"i": row_id})


def downgrade() -> None:
    raise NotImplementedError("the plain SHA-256 person key is not restored")
