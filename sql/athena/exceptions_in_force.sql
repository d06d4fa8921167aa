-- Exceptions in force: a placeholder. The platform keeps no register of accepted exceptions (a
-- finding the organization has decided to live with, until a date, with an approver) yet, so no
-- query can say which findings one covers. When a register exists (e.g. a table of account, region,
-- rule, resource, approved by, expires), this query joins it with open_findings_on_date.sql.
SELECT
    'no exceptions register exists yet: every open finding counts as open' AS exceptions_in_force
