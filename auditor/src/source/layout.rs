//! How a source lays its reports out: one trail (a single account's bucket, or a source rooted
//! inside one trail), or an organization's bucket with one trail per account and region under
//! `reports/<account>/<region>/` (docs/report-format.md, "Where reports live").
//!
//! The trails are found by listing folders, one level at a time, never by listing every report:
//! `reports/` gives the account folders, each account folder its region folders. A bucket whose
//! `reports/` holds no account folder (12 digits) is a single account's, and is read as today.
//! Anything else under `reports/` of an organization's bucket (a date folder, an object beside the
//! account folders, a folder that is not a region) lies outside every trail: it is not read, and
//! each is a finding named by its key, so nothing hides beside the trails.

use std::collections::BTreeMap;

use crate::error::SourceError;
use crate::key::{TrailId, is_account, is_region};

use super::UnreadableEntry;

/// The layout of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One trail.
    Single,
    /// An organization's bucket: its trails, found by listing folders.
    Organization(Discovery),
}

/// The trails of an organization's bucket, and what lies under `reports/` outside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Sorted by account, then region.
    pub trails: Vec<TrailId>,
    /// Folders and objects outside every trail, by key (folders end in `/`): not read.
    pub outside: Vec<UnreadableEntry>,
}

/// One entry of a folder: its name (without the folder's path) and whether it is a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub folder: bool,
}

impl Entry {
    /// The entries of a listing that names keys (or common prefixes) under `prefix`: the first
    /// segment after it, a folder when more of the key follows. Works whether the listing honoured
    /// the delimiter (common prefixes) or listed the keys below it too.
    pub fn from_keys<'k>(prefix: &str, keys: impl Iterator<Item = &'k str>) -> Vec<Entry> {
        let mut names: BTreeMap<String, bool> = BTreeMap::new();
        for key in keys {
            let Some(rest) = key.strip_prefix(prefix) else {
                continue;
            };
            let (name, below) = match rest.split_once('/') {
                Some((name, below)) => (name, Some(below)),
                None => (rest, None),
            };
            if !name.is_empty() {
                *names.entry(name.to_owned()).or_default() |= below.is_some();
            }
        }
        names
            .into_iter()
            .map(|(name, folder)| Entry { name, folder })
            .collect()
    }
}

/// What one folder listing gave: its entries, or why it could not be listed (a finding about that
/// folder; the rest of the bucket is still read).
pub type FolderListing = Result<Vec<Entry>, String>;

/// Finds the trails under `reports` (the key prefix of the reports folder, ending in `/`), or
/// under one account folder of it. `list` lists several folders (key prefixes ending in `/`) and
/// answers in the order asked; an `Err` of its own means the source cannot be read at all (an
/// endpoint that stopped answering). A `reports/` without account folders, or one that cannot be
/// listed, is [`Layout::Single`].
pub fn discover(
    reports: &str,
    only_account: Option<&str>,
    list: impl Fn(&[String]) -> Result<Vec<FolderListing>, SourceError>,
) -> Result<Layout, SourceError> {
    let mut outside = Vec::new();
    let accounts: Vec<String> = match only_account {
        Some(account) => vec![account.to_owned()],
        None => {
            // A `reports/` that cannot be listed is left to the one-trail reading, which says
            // why in its own words.
            let Some(Ok(top)) = list(&[reports.to_owned()])?.pop() else {
                return Ok(Layout::Single);
            };
            if !top.iter().any(|e| e.folder && is_account(&e.name)) {
                return Ok(Layout::Single);
            }
            let mut accounts = Vec::new();
            for e in top {
                if e.folder && is_account(&e.name) {
                    accounts.push(e.name);
                } else if e.folder {
                    outside.push(UnreadableEntry {
                        key: format!("{reports}{}/", e.name),
                        reason: "not an account folder (12 digits): outside every trail, not read"
                            .to_owned(),
                    });
                } else {
                    outside.push(UnreadableEntry {
                        key: format!("{reports}{}", e.name),
                        reason:
                            "an object beside the account folders, outside every trail; not read"
                                .to_owned(),
                    });
                }
            }
            accounts
        }
    };
    let folders: Vec<String> = accounts.iter().map(|a| format!("{reports}{a}/")).collect();
    let mut trails = Vec::new();
    for ((account, folder), listed) in accounts.iter().zip(&folders).zip(list(&folders)?) {
        let entries = match listed {
            Ok(entries) => entries,
            Err(reason) => {
                outside.push(UnreadableEntry {
                    key: folder.clone(),
                    reason: format!("the account folder could not be listed: {reason}"),
                });
                continue;
            }
        };
        let before = trails.len();
        for e in entries {
            if e.folder && is_region(&e.name) {
                trails.push(TrailId {
                    account: account.clone(),
                    region: e.name,
                });
            } else {
                let (key, what) = if e.folder {
                    (format!("{folder}{}/", e.name), "not a region folder")
                } else {
                    (
                        format!("{folder}{}", e.name),
                        "an object beside the region folders",
                    )
                };
                outside.push(UnreadableEntry {
                    key,
                    reason: format!("{what}: outside every trail, not read"),
                });
            }
        }
        if trails.len() == before {
            outside.push(UnreadableEntry {
                key: folder.clone(),
                reason: "the account folder holds no region folder: no trail".to_owned(),
            });
        }
    }
    trails.sort();
    outside.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Layout::Organization(Discovery { trails, outside }))
}

/// Where a source rooted at `path` (a key prefix or a folder's path from the bucket root, `/`-
/// separated) stands in an organization's layout: `(reports folder, only this account)`, or
/// `None` when it is rooted inside a trail (or a single account's date folders) and holds one.
pub fn scope(path: &str) -> Option<(String, Option<String>)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.iter().rposition(|s| *s == "reports") {
        None => {
            let base = segments.join("/");
            Some((
                if base.is_empty() {
                    "reports/".to_owned()
                } else {
                    format!("{base}/reports/")
                },
                None,
            ))
        }
        Some(i) => {
            let reports = format!("{}/", segments[..=i].join("/"));
            match &segments[i + 1..] {
                [] => Some((reports, None)),
                [account] if is_account(account) => Some((reports, Some((*account).to_owned()))),
                _ => None,
            }
        }
    }
}

/// The generator's head beside the reports folder `path` leads into: `chain/head.json` for a
/// single account's trail, `chain/<account>/<region>/head.json` for an organization's trail
/// (`path` at or below `reports/<account>/<region>/`). The part before `reports/` is kept.
pub fn head_key(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(i) = segments.iter().rposition(|s| *s == "reports") else {
        let base = segments.join("/");
        return if base.is_empty() {
            "chain/head.json".to_owned()
        } else {
            format!("{base}/chain/head.json")
        };
    };
    let base: String = segments[..i].iter().map(|s| format!("{s}/")).collect();
    match &segments[i + 1..] {
        [account, region, ..] if is_account(account) && is_region(region) => {
            format!("{base}chain/{account}/{region}/head.json")
        }
        _ => format!("{base}chain/head.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, bool)]) -> Vec<Entry> {
        list.iter()
            .map(|(name, folder)| Entry {
                name: (*name).to_owned(),
                folder: *folder,
            })
            .collect()
    }

    #[test]
    fn entries_come_from_prefixes_or_from_deeper_keys() {
        let keys = [
            "reports/111111111111/",
            "reports/2026/07/01/x.json",
            "reports/2026/07/02/y.json",
            "reports/stray.json",
        ];
        assert_eq!(
            Entry::from_keys("reports/", keys.into_iter()),
            entries(&[
                ("111111111111", true),
                ("2026", true),
                ("stray.json", false)
            ])
        );
    }

    #[test]
    fn a_bucket_without_account_folders_is_one_trail() {
        let layout = discover("reports/", None, |_| {
            Ok(vec![Ok(entries(&[("2026", true)]))])
        });
        assert_eq!(layout.unwrap(), Layout::Single);
    }

    #[test]
    fn trails_are_found_folder_by_folder_and_the_rest_is_outside() {
        let list = |folders: &[String]| {
            Ok(folders
                .iter()
                .map(|f| match f.as_str() {
                    "reports/" => Ok(entries(&[
                        ("111111111111", true),
                        ("222222222222", true),
                        ("333333333333", true),
                        ("2026", true),
                        ("note.json", false),
                    ])),
                    "reports/111111111111/" => {
                        Ok(entries(&[("us-east-1", true), ("eu-west-1", true)]))
                    }
                    "reports/222222222222/" => Ok(entries(&[("misc", true), ("x.json", false)])),
                    _ => Err("AccessDenied".to_owned()),
                })
                .collect())
        };
        let Layout::Organization(d) = discover("reports/", None, list).unwrap() else {
            panic!("an organization")
        };
        let trails: Vec<String> = d.trails.iter().map(ToString::to_string).collect();
        assert_eq!(trails, ["111111111111/eu-west-1", "111111111111/us-east-1"]);
        let outside: Vec<&str> = d.outside.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            outside,
            [
                "reports/2026/",
                "reports/222222222222/",
                "reports/222222222222/misc/",
                "reports/222222222222/x.json",
                "reports/333333333333/",
                "reports/note.json",
            ]
        );
        assert!(d.outside[4].reason.contains("AccessDenied"));
    }

    #[test]
    fn scope_and_head_follow_the_path() {
        assert_eq!(scope(""), Some(("reports/".to_owned(), None)));
        assert_eq!(
            scope("archive"),
            Some(("archive/reports/".to_owned(), None))
        );
        assert_eq!(scope("reports/"), Some(("reports/".to_owned(), None)));
        assert_eq!(
            scope("reports/123456789012/"),
            Some(("reports/".to_owned(), Some("123456789012".to_owned())))
        );
        assert_eq!(scope("reports/123456789012/us-east-1/"), None);
        assert_eq!(scope("reports/2026/"), None);
        assert_eq!(head_key(""), "chain/head.json");
        assert_eq!(head_key("reports/2026/"), "chain/head.json");
        assert_eq!(head_key("x/reports/"), "x/chain/head.json");
        assert_eq!(head_key("old"), "old/chain/head.json");
        assert_eq!(
            head_key("x/reports/123456789012/us-east-1/2026/"),
            "x/chain/123456789012/us-east-1/head.json"
        );
    }
}
