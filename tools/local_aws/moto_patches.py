"""Small corrections to moto 5.2.5, applied once per process when an emulator is built.

Each one exists because AWS Config output depends on it; each is documented in README.md.
"""

from __future__ import annotations

import base64
import uuid

from .cloudformation_delete import patch_delete_stack
from .configservice.resources import MOTO_SHARED_DBI_RESOURCE_ID

_applied = False


def patch_moto() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    _unique_dbi_resource_ids()
    patch_delete_stack()  # a bucket that is not empty fails DeleteStack, as in AWS


def _unique_dbi_resource_ids() -> None:
    """moto gives every DB instance the DbiResourceId db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U; AWS Config
    names DB instances by that id, so two instances would collapse into one finding. Give each its
    own."""
    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if getattr(self, "dbi_resource_id", None) == MOTO_SHARED_DBI_RESOURCE_ID:
            self.dbi_resource_id = "db-" + base64.b32encode(uuid.uuid4().bytes).decode()[:26]

    DBInstance.__init__ = __init__  # type: ignore[method-assign]
