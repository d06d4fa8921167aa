"""The report generator's logic, kept apart from the Lambda entry point (``handler.py``).

Only the standard library and boto3/botocore are used, so the package runs on the AWS Lambda python3.9
runtime with the SDK the runtime ships (see ``clients.py`` for how S3 conditional writes stay available on
an older botocore).
"""

GENERATOR_NAME = "compliance-report-generator"
GENERATOR_VERSION = "1.1.0"
# 1.1 adds the exceptions register's fields (docs/report-format.md); stored 1.0 reports are still read.
SCHEMA_VERSION = "1.1"
READABLE_SCHEMA_VERSIONS = ("1.0", "1.1")
