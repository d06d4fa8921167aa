"""The organization shape: one member part per account and region (a service-managed StackSet), one
evidence part in the audit account (the central bucket, Athena, the Config aggregator) and, per region,
the evidence account's asset bucket and organization alert topic. ``build.py`` composes them."""
