"""Cross-account evaluation and policy variables, against the IAM User Guide's rules.

"Cross-account policy evaluation logic": a request from one account to a resource of another is
allowed only when the requester's identity-based policy allows it AND the resource-based policy
allows it; an explicit deny in either wins. "IAM policy elements: Variables and tags": a variable in
a Resource or condition value is replaced by the request's value of that (single-valued) key.
"""

import pytest

from tools.local_aws.iam.conditions import PolicyError, parse_condition
from tools.local_aws.iam.policy import (
    ALLOW,
    EXPLICIT_DENY_IDENTITY,
    EXPLICIT_DENY_RESOURCE,
    IDENTITY,
    IMPLICIT_DENY,
    IMPLICIT_DENY_RESOURCE,
    RESOURCE,
    Principal,
    decide,
    parse_policy,
)
from tools.local_aws.iam.variables import substitute, wildcarded

BUCKET = "arn:aws:s3:::central"
MEMBER = Principal(
    "role",
    "arn:aws:iam::222222222222:role/generator",
    "arn:aws:sts::222222222222:assumed-role/generator/generator",
    "222222222222",
)
OTHER = Principal(
    "role",
    "arn:aws:iam::333333333333:role/generator",
    "arn:aws:sts::333333333333:assumed-role/generator/generator",
    "333333333333",
)


def context(principal, org="o-exampleorg1"):
    out = {
        "aws:principalaccount": [principal.account],
        "aws:principalarn": [principal.arn],
        "aws:securetransport": ["true"],
    }
    if org:
        out["aws:principalorgid"] = [org]
    return out


def identity(*statements):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, "id", IDENTITY)


def bucket_policy(*statements):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, "bp", RESOURCE)


WRITE_ANYWHERE = identity(
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/reports/*"}
)
OWN_PREFIX = bucket_policy(
    {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{BUCKET}/reports/${{aws:PrincipalAccount}}/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}},
    }
)


def put(
    key, principal=MEMBER, ident=(WRITE_ANYWHERE,), resource=(OWN_PREFIX,), org="o-exampleorg1"
):
    return decide(
        "s3:PutObject",
        f"{BUCKET}/{key}",
        principal,
        context(principal, org),
        list(ident),
        list(resource),
        cross_account=True,
    ).outcome


def test_both_policies_allow_across_accounts():
    assert put("reports/222222222222/us-east-1/x.json") == ALLOW


def test_an_identity_allow_alone_is_not_enough_across_accounts():
    # The bucket policy names the caller's own prefix only: another account's prefix is not granted.
    assert put("reports/333333333333/us-east-1/x.json") == IMPLICIT_DENY_RESOURCE
    assert put("reports/222222222222/x.json", resource=()) == IMPLICIT_DENY_RESOURCE


def test_a_resource_allow_alone_is_not_enough_across_accounts():
    assert put("reports/222222222222/us-east-1/x.json", ident=()) == IMPLICIT_DENY


def test_within_one_account_either_policy_allows():
    same = decide(
        "s3:PutObject",
        f"{BUCKET}/reports/222222222222/x.json",
        MEMBER,
        context(MEMBER),
        [],
        [OWN_PREFIX],
        cross_account=False,
    )
    assert same.outcome == ALLOW


def test_an_account_principal_grants_across_accounts_but_only_with_an_identity_allow():
    by_account = bucket_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET}/*",
        }
    )
    assert put("reports/any.json", resource=(by_account,)) == ALLOW
    assert put("reports/any.json", resource=(by_account,), ident=()) == IMPLICIT_DENY
    assert put("reports/any.json", principal=OTHER, resource=(by_account,)) == (
        IMPLICIT_DENY_RESOURCE
    )


def test_an_explicit_deny_in_either_policy_wins():
    deny_id = identity({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    deny_res = bucket_policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"}
    )
    key = "reports/222222222222/x.json"
    assert put(key, ident=(WRITE_ANYWHERE, deny_id)) == EXPLICIT_DENY_IDENTITY
    assert put(key, resource=(OWN_PREFIX, deny_res)) == EXPLICIT_DENY_RESOURCE


def test_the_organization_condition_needs_the_principal_in_the_organization():
    assert put("reports/222222222222/x.json", org=None) == IMPLICIT_DENY_RESOURCE
    assert put("reports/222222222222/x.json", org="o-otherorgxyz") == IMPLICIT_DENY_RESOURCE


# -- variables ---------------------------------------------------------------------------------------


def test_a_variable_is_replaced_by_the_request_value_as_literal_text():
    text, literal = substitute(
        "reports/${aws:PrincipalAccount}/*", {"aws:principalaccount": ["1*"]}
    )
    assert text == "reports/1*/*"
    assert literal == frozenset({8, 9})  # the "*" of the value is not a wildcard
    star = bucket_policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/r/${{aws:PrincipalTag/team}}/*",
        }
    )
    statement = star.statements[0]
    assert statement.names_resource(f"{BUCKET}/r/a*/x", {"aws:principaltag/team": ["a*"]})
    assert not statement.names_resource(f"{BUCKET}/r/abc/x", {"aws:principaltag/team": ["a*"]})


def test_a_variable_without_a_value_names_nothing_unless_it_has_a_default():
    statement = identity(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/${{aws:username}}/*"}
    ).statements[0]
    assert not statement.names_resource(f"{BUCKET}/alice/x", {})
    assert statement.names_resource(f"{BUCKET}/alice/x", {"aws:username": ["alice"]})
    defaulted = identity(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/${{aws:username, 'shared'}}/*",
        }
    ).statements[0]
    assert defaulted.names_resource(f"{BUCKET}/shared/x", {})


def test_special_characters_and_the_linters_view():
    assert substitute("a${*}b${?}c${$}", {}) == ("a*b?c$", frozenset({1, 3, 5}))
    assert wildcarded("reports/${aws:PrincipalAccount}/*") == "reports/*/*"


@pytest.mark.parametrize(
    "resource, fragment",
    [
        (f"{BUCKET}/${{aws:TagKeys}}/*", "multivalued"),
        (f"{BUCKET}/${{aws:PrincipalAccount/*", "unclosed"),
        (f"{BUCKET}/${{}}/*", "names no condition key"),
    ],
)
def test_variables_iam_would_refuse_are_policy_errors(resource, fragment):
    with pytest.raises(PolicyError, match=fragment):
        identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource})


def test_a_variable_in_a_condition_value():
    (clause,) = parse_condition(
        {"StringLike": {"s3:prefix": "reports/${aws:PrincipalAccount}/*"}}, "test"
    )
    assert clause.holds({"s3:prefix": ["reports/2222/a"], "aws:principalaccount": ["2222"]})
    assert not clause.holds({"s3:prefix": ["reports/3333/a"], "aws:principalaccount": ["2222"]})
    assert not clause.holds({"s3:prefix": ["reports/2222/a"]})  # no value: matches nothing
