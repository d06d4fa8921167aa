"""Which account a request belongs to: one answer for moto's backends, the AWS Config extension, the
CloudTrail events and IAM enforcement.

moto keeps one set of backends per account and picks it by the request's access key
(``moto.iam.models.get_account_id_from``: a key moto issued itself, else its default account,
123456789012). An organization has many accounts, each with its own AWS Config, parameters and
estate, so the emulator knows two more kinds of key:

* ``admin_key(account)`` (``AKIAADMN<12 digits>``: 20 capitals and digits, the shape moto reads from
  a request's credential): an administrator of that account, as ``testing`` is of the default one.
  It seeds what a member account's deployment and landing zone hold (its recorder, rules, witness
  parameter, estate) and is never evaluated by IAM enforcement.
* the access keys of a member template's roles (IAM enforcement loaded with ``members``,
  ``iam/enforce.py``): requests signed with one are that member account's, so a member's report
  generator reads its own account's AWS Config and writes its own parameter, and reaches the evidence
  account's bucket and topics across accounts (moto finds a bucket of another account by its name and
  a topic by its ARN).

Every other key keeps moto's answer, so a single-account run is unchanged.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any, Callable

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
ADMIN_KEY_PREFIX = "AKIAADMN"
_ADMIN_KEY_RE = re.compile(r"^AKIAADMN([0-9]{12})$")

_lock = threading.Lock()
_role_keys: dict[str, str] = {}  # access key id -> account, from IAM enforcement's members
_moto_account_of: Callable[[str], str] | None = None


def admin_key(account: str) -> str:
    """The access key id of an administrator of ``account`` (12 digits)."""
    if not re.fullmatch(r"[0-9]{12}", account):
        raise ValueError(f"account {account!r}: must be 12 digits")
    return f"{ADMIN_KEY_PREFIX}{account}"


def admin_account(access_key: str | None) -> str | None:
    """The account ``access_key`` administers when it is an ``admin_key``, else None."""
    found = _ADMIN_KEY_RE.match(access_key or "")
    return found.group(1) if found else None


def register_role_keys(keys: Mapping[str, str]) -> None:
    """Replace the member roles' keys (access key id -> account); IAM enforcement calls this on each
    load, and with nothing when enforcement is turned off."""
    with _lock:
        _role_keys.clear()
        _role_keys.update(keys)


def account_of(access_key: str | None) -> str:
    """The account a request signed with ``access_key`` is made in."""
    if not access_key:
        return DEFAULT_ACCOUNT
    admin = admin_account(access_key)
    if admin is not None:
        return admin
    with _lock:
        member = _role_keys.get(access_key)
    if member is not None:
        return member
    if _moto_account_of is None:
        return DEFAULT_ACCOUNT
    return _moto_account_of(access_key)


def patch_moto_accounts() -> None:
    """moto's account lookup answers as ``account_of``; idempotent."""
    global _moto_account_of
    import moto.iam.models as iam_models

    if _moto_account_of is not None:
        return
    original: Any = iam_models.get_account_id_from
    _moto_account_of = original
    iam_models.get_account_id_from = account_of  # type: ignore[assignment]
