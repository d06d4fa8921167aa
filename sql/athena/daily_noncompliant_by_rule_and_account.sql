-- Non-compliant resources per day, rule, account and region: the organization's daily series.
-- Parameters: 1. the first day, 2. the last day; both 'YYYY/MM/DD' (the key layout).
--
-- As the auditor's daily series (auditor/src/timeline.rs): a day's state is its last report; a day
-- without a report carries the last known state forward (carried = true), as does a rule marked
-- complete = false; before a trail's first report in the period its rules count 0.
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
rule_counts AS (
    SELECT d.account, d.region, d.day, r.name AS rule, cardinality(r.noncompliant) AS open_findings
    FROM day_reports AS d
    CROSS JOIN UNNEST(d.rules) AS t (r)
    WHERE d.nth_of_day = 1 AND r.complete
),
reported_days AS (
    SELECT DISTINCT account, region, day FROM day_reports
),
bounds AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM day_reports
),
calendar AS (
    SELECT date_format(c.d, '%Y/%m/%d') AS day
    FROM bounds AS b
    CROSS JOIN
        UNNEST(
            sequence(
                date_parse(b.first_day, '%Y/%m/%d'),
                date_parse(b.last_day, '%Y/%m/%d'),
                INTERVAL '1' DAY
            )
        ) AS c (d)
),
trail_rules AS (
    SELECT DISTINCT account, region, rule FROM rule_counts
),
state_days AS (
    SELECT c.day, tr.account, tr.region, tr.rule, max(rc.day) AS state_day
    FROM calendar AS c
    CROSS JOIN trail_rules AS tr
    LEFT JOIN rule_counts AS rc
        ON rc.account = tr.account AND rc.region = tr.region AND rc.rule = tr.rule AND rc.day <= c.day
    GROUP BY c.day, tr.account, tr.region, tr.rule
)
SELECT
    s.day,
    s.account,
    s.region,
    s.rule,
    coalesce(rc.open_findings, 0) AS non_compliant,
    rd.day IS NULL AS carried
FROM state_days AS s
LEFT JOIN rule_counts AS rc
    ON rc.account = s.account AND rc.region = s.region AND rc.rule = s.rule AND rc.day = s.state_day
LEFT JOIN reported_days AS rd
    ON rd.account = s.account AND rd.region = s.region AND rd.day = s.day
ORDER BY s.day, s.account, s.region, s.rule
