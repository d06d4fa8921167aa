"""The report generator's logic, kept apart from the Lambda entry point (``handler.py``).

Only the standard library and boto3/botocore are used, so the package runs on the AWS Lambda python3.9
runtime with the SDK the runtime ships (see ``clients.py`` for how S3 conditional writes stay available on
an older botocore).
"""

GENERATOR_NAME = "compliance-report-generator"
GENERATOR_VERSION = "1.0.0"
SCHEMA_VERSION = "1.0"
