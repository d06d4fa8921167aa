"""Report storage: the bucket that holds the audit trail, and the access log of who read it."""

from __future__ import annotations

from constructs import Construct

from lib.defaults import global_bucket_name, secure_bucket

REPORT_PREFIX = "reports/"
CHAIN_PREFIX = "chain/"


class ReportStorage(Construct):
    """Two buckets, both versioned, SSE-S3 (AES256), private, TLS-only, kept 7 years:

    * ``reports``: the hash-chained compliance reports (optionally under S3 Object Lock);
    * ``access_logs``: S3 server access logs of the reports bucket and of AWS Config's delivery bucket
      (which ConfigMonitoring owns), so every read of the trail is itself recorded.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        object_lock_mode: str,
    ) -> None:
        super().__init__(scope, id_)
        self.access_logs = secure_bucket(
            self, "AccessLogs", bucket_name=global_bucket_name("compliance-access-logs", suffix)
        )
        self.reports = secure_bucket(
            self,
            "Reports",
            bucket_name=global_bucket_name("compliance-reports", suffix),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="reports-bucket/",
            object_lock_mode=object_lock_mode,
        )
