-- Findings open at the end of a day, in every account and region of the organization.
-- Parameters: 1. the first day of reports to read, 2. the day; both 'YYYY/MM/DD' (the key layout).
--
-- The auditor's rules (docs/report-format.md, "A finding"; auditor/src/timeline.rs): a day's state is
-- its last report (latest generatedAt, then highest sequence); a rule marked complete = false keeps
-- the state of the last report in which it was complete. A rule incomplete in every report read here
-- shows nothing: start early enough (a week before the day is plenty for a healthy trail).
WITH day_reports AS (
    SELECT
        account,
        region,
        day,
        rules,
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
    s.day AS state_from_report_of
FROM rule_states AS s
CROSS JOIN UNNEST(s.findings) AS u (f)
WHERE s.newest = 1
ORDER BY s.account, s.region, s.rule, resource_type, resource_id
