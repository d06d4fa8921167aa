"""A local AWS stand-in on loopback: moto's server, extended with AWS Config rule compliance.

``from tools.local_aws import LocalAws``; see README.md in this folder for the interface.
"""

from .server import LocalAws

__all__ = ["LocalAws"]
