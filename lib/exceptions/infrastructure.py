"""The exceptions register as a Lambda layer: how the reviewed register reaches the functions.

The register's canonical bytes (register.py) are staged at synth in a folder holding
``exceptions/register.json``; the folder is the layer's asset, and Lambda extracts a layer's content
into ``/opt`` ("Packaging your layer content", Lambda Developer Guide), so the functions read the file at
``/opt/exceptions/register.json``. A changed register is a new asset hash, hence a new layer version and
a redeploy of the functions that use it, and a new ``EXCEPTIONS_REGISTER_KEY``: the next report names
the new register.

The layer has no tags: AWS::Lambda::LayerVersion has no Tags property (CloudFormation User Guide), so
the stack's tag aspect passes over it. Its versions are deleted with the stack (``DESTROY``): the
register's lasting copy is the content-addressed object the report generator writes to the reports bucket.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lib.defaults import physical_name
from lib.exceptions.register import Register

# Where the file sits inside the layer, and so below /opt in the function.
FILE_IN_LAYER = PurePosixPath("exceptions") / "register.json"
LAYER_MOUNT = PurePosixPath("/opt")
REGISTER_PATH = str(LAYER_MOUNT / FILE_IN_LAYER)


def stage(register: Register) -> Path:
    """A fresh folder holding ``exceptions/register.json`` (the canonical bytes), removed when the
    process ends (CDK has copied it into the cloud assembly by then)."""
    folder = Path(tempfile.mkdtemp(prefix="exceptions-layer-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = folder.joinpath(*FILE_IN_LAYER.parts)
    target.parent.mkdir(parents=True)
    target.write_bytes(register.canonical_bytes())
    return folder


class ExceptionsRegister(Construct):
    """The layer holding the register; ``key`` and ``path`` are what each function gets as
    ``EXCEPTIONS_REGISTER_KEY`` and ``EXCEPTIONS_REGISTER_PATH``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        runtime: lambda_.Runtime,
        register: Register,
    ) -> None:
        super().__init__(scope, id_)
        self.register = register
        self.key = register.key
        self.path = REGISTER_PATH
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            layer_version_name=physical_name("compliance-exceptions", suffix),
            description=(
                f"Exceptions register {register.key} ({len(register.entries)} entries) at "
                f"{REGISTER_PATH}"
            )[:256],
            code=lambda_.Code.from_asset(str(stage(register))),
            compatible_architectures=[lambda_.Architecture.ARM_64],
            compatible_runtimes=[runtime],
            removal_policy=RemovalPolicy.DESTROY,
        )
