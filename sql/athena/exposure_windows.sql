-- Each finding's exposure windows: from the first day's report that listed it to the first later
-- report (of a day, with the rule complete) that no longer did. Organization-wide, per account and
-- region. Parameters: 1. the first day, 2. the last day; both 'YYYY/MM/DD' (the key layout).
--
-- As the auditor's exposures (auditor/src/timeline.rs): days_non_compliant counts to the resolving
-- report's day, or to the day after the last day for a window still open; a reopened finding has a
-- window per reopening.
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
snapshots AS (
    SELECT d.account, d.region, d.day, r.name AS rule, r.noncompliant AS findings
    FROM day_reports AS d
    CROSS JOIN UNNEST(d.rules) AS t (r)
    WHERE d.nth_of_day = 1 AND r.complete
),
listed AS (
    SELECT DISTINCT
        s.account, s.region, s.rule, f.resourcetype AS resource_type, f.resourceid AS resource_id, s.day
    FROM snapshots AS s
    CROSS JOIN UNNEST(s.findings) AS u (f)
),
findings AS (
    SELECT DISTINCT account, region, rule, resource_type, resource_id FROM listed
),
grid AS (
    SELECT
        f.account,
        f.region,
        f.rule,
        f.resource_type,
        f.resource_id,
        s.day,
        l.day IS NOT NULL AS present
    FROM findings AS f
    JOIN snapshots AS s ON s.account = f.account AND s.region = f.region AND s.rule = f.rule
    LEFT JOIN listed AS l
        ON l.account = f.account AND l.region = f.region AND l.rule = f.rule
        AND l.resource_type = f.resource_type AND l.resource_id = f.resource_id AND l.day = s.day
),
marked AS (
    SELECT
        g.*,
        CASE
            WHEN g.present AND NOT coalesce(
                lag(g.present) OVER (
                    PARTITION BY g.account, g.region, g.rule, g.resource_type, g.resource_id
                    ORDER BY g.day
                ),
                false
            )
            THEN 1 ELSE 0
        END AS opens
    FROM grid AS g
),
numbered AS (
    SELECT
        m.*,
        sum(m.opens) OVER (
            PARTITION BY m.account, m.region, m.rule, m.resource_type, m.resource_id
            ORDER BY m.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS window_number
    FROM marked AS m
),
windows AS (
    SELECT
        account,
        region,
        rule,
        resource_type,
        resource_id,
        window_number,
        min(CASE WHEN present THEN day END) AS opened,
        min(CASE WHEN NOT present THEN day END) AS resolved
    FROM numbered
    WHERE window_number > 0
    GROUP BY account, region, rule, resource_type, resource_id, window_number
),
last_day AS (
    SELECT max(day) AS day FROM day_reports
)
SELECT
    w.account,
    w.region,
    w.rule,
    w.resource_type,
    w.resource_id,
    w.window_number,
    w.opened,
    w.resolved,
    date_diff(
        'day',
        date_parse(w.opened, '%Y/%m/%d'),
        coalesce(date_parse(w.resolved, '%Y/%m/%d'), date_parse(ld.day, '%Y/%m/%d') + INTERVAL '1' DAY)
    ) AS days_non_compliant
FROM windows AS w
CROSS JOIN last_day AS ld
ORDER BY w.account, w.region, w.rule, w.resource_type, w.resource_id, w.window_number
