"""Conflict of interest: an officer may not decide a dossier they filed or are the applicant of.

The officer's chat (and every chat linked to it with ``/lienket``) is compared with the dossier's filing chat
and the applicant's chat. The dossier view flags such a dossier, and approving or rejecting it is refused: a
colleague or the leader decides it. An officer acting only from the shell has no chat to compare.
"""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import N_
from storage.models import Dossier, Officer

from ..accounts import account_of, identities
from .base import ActionRefused


async def own_dossier(db: AsyncSession, officer: Officer, dossier: Dossier) -> bool:
    """True if ``officer`` filed ``dossier`` or is its applicant (from their own chat or one linked to it)."""
    if not officer.user_key:
        return False
    keys = {officer.user_key}
    acct = await account_of(db, officer.user_key)
    if acct is not None:
        keys.update(await identities(db, acct.id))
    return bool(keys & {dossier.submitter_key, dossier.applicant_key})


async def refuse_own_dossier(db: AsyncSession, officer: Officer, dossier: Dossier) -> None:
    """Refuse a decision on the officer's own dossier (:func:`own_dossier`)."""
    if await own_dossier(db, officer, dossier):
        raise ActionRefused(N_("Bạn là người nộp hoặc người đứng tên hồ sơ {code}, nên không được tự duyệt hay từ "
                               "chối hồ sơ này. Vui lòng để cán bộ khác hoặc lãnh đạo quyết định."), "conflict",
                            code=dossier.code)
