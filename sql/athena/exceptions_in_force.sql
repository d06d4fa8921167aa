-- Findings under an exception at the end of a day, in every account and region of the organization:
-- per finding, the exception that labels it (id, approver, expires) and the register the label was
-- read from. Parameters: 1. the first day of reports to read, 2. the day, 3. the day again; all
-- 'YYYY/MM/DD' (the key layout). Each ? takes its own value, declared in order ("Use parameterized
-- queries", Athena User Guide: the execution parameter values are declared sequentially), so the day
-- is passed twice: once to bound the projected days, once to end the labels that expired before it.
--
-- The auditor's rules (docs/report-format.md, "Exceptions (schema 1.1)"; auditor/README.md,
-- "Exceptions"): a finding's state on the day is that of open_findings_on_date.sql (the day's last
-- report, latest generatedAt then highest sequence; a rule marked complete = false keeps the state
-- of the last report in which it was complete). A finding is excepted when that report labels it
-- with an exception whose expiry is on or after the day: a label is carried over days without a
-- report, never past its expiry. An excepted finding is still open (open_findings_on_date.sql lists
-- it too). A schema 1.0 report labels nothing: its findings' exception reads NULL.
WITH day_reports AS (
    SELECT
        account,
        region,
        day,
        rules,
        exceptionregister,
        row_number() OVER (
            PARTITION BY account, region, day
            ORDER BY from_iso8601_timestamp(generatedat) DESC, chain.sequence DESC
        ) AS nth_of_day
    FROM reports
    WHERE day BETWEEN ? AND ?
),
rule_states AS (
    SELECT
        d.account,
        d.region,
        d.day,
        d.exceptionregister.key AS register_key,
        r.name AS rule,
        r.noncompliant AS findings,
        row_number() OVER (PARTITION BY d.account, d.region, r.name ORDER BY d.day DESC) AS newest
    FROM day_reports AS d
    CROSS JOIN UNNEST(d.rules) AS t (r)
    WHERE d.nth_of_day = 1 AND r.complete
)
SELECT DISTINCT
    s.account,
    s.region,
    s.rule,
    f.resourcetype AS resource_type,
    f.resourceid AS resource_id,
    f.exception.id AS exception_id,
    f.exception.approver AS approver,
    f.exception.expires AS expires,
    s.register_key,
    s.day AS state_from_report_of
FROM rule_states AS s
CROSS JOIN UNNEST(s.findings) AS u (f)
WHERE s.newest = 1 AND f.exception IS NOT NULL AND f.exception.expires >= replace(?, '/', '-')
ORDER BY s.account, s.region, s.rule, resource_type, resource_id
