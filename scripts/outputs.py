#!/usr/bin/env python3
"""Print the deployed stack's outputs: report bucket, alert topic, request queue, report generator.

Read from CloudFormation (DescribeStacks), so they are what is deployed, not what a synth would make.
``--json`` prints ``{"stack", "account", "region", "status", "outputs": {OutputKey: value}}`` for
scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional

from lib.stack_outputs import OUTPUTS
from scripts import deployment


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    args = parser.parse_args(argv)
    deployed = deployment.find(deployment.session(), args.suffix)
    values = {output.key: deployed.output(output) for output in OUTPUTS}
    if args.json:
        document = {
            "stack": deployed.stack_name,
            "account": deployed.account,
            "region": deployed.region,
            "status": deployed.status,
            "outputs": values,
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"{deployed.stack_name} in {deployed.where} ({deployed.status})")
    width = max(len(output.label) for output in OUTPUTS)
    for output in OUTPUTS:
        print(f"  {output.label:<{width}}  {values[output.key]}")
    return 0


if __name__ == "__main__":
    sys.exit(deployment.run(main))
