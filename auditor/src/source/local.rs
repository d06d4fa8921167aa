//! A local folder of reports, read recursively. The folder may be a copy of the bucket root, of
//! `reports/`, or of any folder below it: keys are paths relative to the folder, and the chain
//! check compares them with `previousKey` from `reports/` on (see [`crate::key`]).
//!
//! One bad entry never stops the listing: a dangling symbolic link, a folder that cannot be
//! opened, a name that is not UTF-8, a `.json` that is not a regular file (a FIFO would block the
//! read forever) and a folder reached a second time through a symbolic link are each listed as
//! unreadable, by path, and the rest of the folder is still read.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::layout::{self, Entry, FolderListing, Layout};
use super::{
    FetchError, HeadCopy, HeadLookup, Listing, RegisterLookup, ReportSource, StoredObject,
    UnreadableEntry, Versioning, register_key_is_safe,
};
use crate::error::SourceError;
use crate::key::TrailId;
use crate::report::MAX_REPORT_BYTES;

/// Reports under a folder on disk.
#[derive(Debug, Clone)]
pub struct LocalSource {
    name: String,
    root: PathBuf,
    /// For a folder inside a `reports/` tree (e.g. `copy/reports/2026`), its path from `reports/`
    /// on (`reports/2026/`), put in front of every key so keys keep their date folders.
    key_prefix: String,
    /// The folder that holds `reports/` when the root is inside one (`copy/` for
    /// `copy/reports/2026`): where the generator's `chain/` folder lives.
    above_reports: Option<PathBuf>,
}

/// What one walk collects.
#[derive(Default)]
struct Walk {
    objects: Vec<StoredObject>,
    unreadable: Vec<UnreadableEntry>,
    /// Folders already read, so a symbolic link loop is read once.
    seen: HashSet<FolderIdentity>,
}

impl LocalSource {
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref().to_path_buf();
        let absolute = fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        let parts: Vec<String> = absolute
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect();
        let reports_at = parts.iter().rposition(|p| p == "reports");
        let key_prefix = match reports_at {
            Some(i) if i + 1 < parts.len() => format!("{}/", parts[i..].join("/")),
            _ => String::new(),
        };
        let above_reports = reports_at.map(|i| {
            let mut up = absolute.clone();
            for _ in i..parts.len() {
                up.pop();
            }
            up
        });
        LocalSource {
            name: root.display().to_string(),
            root,
            key_prefix,
            above_reports,
        }
    }

    /// Where an organization's trails would be: the `reports/` folder (a path built from the
    /// root) and, for a root at `reports/<account>/`, that account. `None` when the root holds
    /// one trail.
    fn reports_folder(&self) -> Option<(PathBuf, Option<String>)> {
        if self.root.join("reports").is_dir() {
            return Some((self.root.join("reports"), None));
        }
        self.above_reports.as_ref()?;
        match layout::scope(&self.key_prefix)? {
            (_, None) => Some((self.root.clone(), None)),
            (_, Some(account)) => Some((self.root.clone(), Some(account))),
        }
    }

    /// The folder of one trail, as a path built from the root.
    fn trail_folder(&self, id: &TrailId) -> Option<PathBuf> {
        Some(match self.reports_folder()? {
            (_, Some(account)) if account == id.account => self.root.join(&id.region),
            (_, Some(_)) => return None,
            (reports, None) => reports.join(&id.account).join(&id.region),
        })
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Walk) {
        match fs::read_dir(dir) {
            Ok(entries) => self.walk_entries(entries, rel, out),
            Err(e) => out.unreadable.push(UnreadableEntry {
                key: rel.to_owned(),
                reason: format!("the folder cannot be read: {e}"),
            }),
        }
    }

    /// The entries of the folder at `rel`, already opened.
    fn walk_entries(&self, entries: fs::ReadDir, rel: &str, out: &mut Walk) {
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    out.unreadable.push(UnreadableEntry {
                        key: rel.to_owned(),
                        reason: format!("the folder cannot be listed in full: {e}"),
                    });
                    break;
                }
            };
            let name = entry.file_name();
            let join = |name: &str| {
                if rel.is_empty() {
                    name.to_owned()
                } else {
                    format!("{rel}/{name}")
                }
            };
            let Some(name) = name.to_str() else {
                out.unreadable.push(UnreadableEntry {
                    key: join(&name.to_string_lossy()),
                    reason: "the name is not UTF-8, so it cannot be a report key".to_owned(),
                });
                continue;
            };
            let key = join(name);
            // Only folders, `.json` files and symbolic links are examined; the type read with
            // the folder's entries tells them apart without a `stat` of every name.
            let file_type = entry.file_type().ok();
            let is_link = file_type.is_none_or(|t| t.is_symlink());
            if !is_link && !file_type.is_some_and(|t| t.is_dir()) && !key.ends_with(".json") {
                continue;
            }
            let path = entry.path();
            // Anything but a link is examined where it is (relative to the open folder, not by
            // its whole path); a link is followed to what it names.
            let meta = match if is_link {
                fs::metadata(&path)
            } else {
                entry.metadata()
            } {
                Ok(meta) => meta,
                Err(e) => {
                    let reason = if fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
                        format!("a symbolic link whose target cannot be reached: {e}")
                    } else {
                        format!("cannot be examined: {e}")
                    };
                    out.unreadable.push(UnreadableEntry { key, reason });
                    continue;
                }
            };
            if meta.is_dir() {
                if !out.seen.insert(folder_identity(&path, &meta)) {
                    out.unreadable.push(UnreadableEntry {
                        key,
                        reason:
                            "a symbolic link back to a folder already read (a loop); not read again"
                                .to_owned(),
                    });
                    continue;
                }
                self.walk(&path, &key, out);
            } else if key.ends_with(".json") {
                if meta.is_file() {
                    out.objects.push(StoredObject {
                        key,
                        size: meta.len(),
                        version_id: None,
                    });
                } else {
                    out.unreadable.push(UnreadableEntry {
                        key,
                        reason: "not a regular file (a device, FIFO or socket); not read"
                            .to_owned(),
                    });
                }
            }
        }
    }
}

/// A folder as the walk recognises it again through another path: its device and inode on Unix,
/// which the listing's `stat` already gave (an organization's bucket has a folder per trail and
/// day, and resolving each one's canonical path cost a `readlink` per path component); its
/// canonical path elsewhere.
#[cfg(unix)]
type FolderIdentity = (u64, u64);
#[cfg(not(unix))]
type FolderIdentity = PathBuf;

#[cfg(unix)]
fn folder_identity(_path: &Path, meta: &fs::Metadata) -> FolderIdentity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn folder_identity(path: &Path, _meta: &fs::Metadata) -> FolderIdentity {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Why a folder has no place for what the generator keeps beside `reports/`.
const NOT_ROOTED: &str =
    "the folder is neither a copy of the bucket root (with reports/) nor inside a reports/ folder";

impl LocalSource {
    /// The folder that holds `reports/` (and `chain/`, `exceptions/`), when there is one.
    fn trail_root(&self) -> Option<PathBuf> {
        if self.root.join("reports").is_dir() {
            Some(self.root.clone())
        } else {
            self.above_reports.clone()
        }
    }
}

/// Reads at most `limit + 1` bytes, so an object larger than the schema allows is refused as too
/// large without being held in memory; the buffer is sized from the file's length (see
/// [`read_file_capped`]).
fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let expected = file.metadata().map_or(0, |m| m.len());
    read_file_capped(file, limit, expected)
}

/// [`read_capped`] of an open file whose length is expected to be `expected` (the listing's):
/// the buffer is sized from it, and a file that has grown since is still read to its end, up to
/// the cap.
///
/// The reads fill the buffer directly: `read_to_end` on a `Take` knows no size and starts at
/// 8 KiB, three reads for a 22 kB report where two (its bytes, then the end) suffice.
fn read_file_capped(mut file: fs::File, limit: u64, expected: u64) -> std::io::Result<Vec<u8>> {
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let start = usize::try_from(expected)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
        .min(cap);
    let mut bytes = vec![0u8; start];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            if bytes.len() >= cap {
                break;
            }
            let grown = bytes.len().saturating_mul(2).clamp(8 << 10, cap);
            bytes.resize(grown, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

impl ReportSource for LocalSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&self) -> Result<Listing, SourceError> {
        let Some(meta) = fs::metadata(&self.root).ok().filter(fs::Metadata::is_dir) else {
            return Err(SourceError::Folder {
                source_name: self.name.clone(),
                reason: "not a folder (give a folder of reports or s3://bucket/prefix)".to_owned(),
            });
        };
        // The root itself must be readable: otherwise there is nothing to check at all.
        let entries = fs::read_dir(&self.root).map_err(|e| SourceError::Folder {
            source_name: self.name.clone(),
            reason: e.to_string(),
        })?;
        let mut walk = Walk::default();
        walk.seen.insert(folder_identity(&self.root, &meta));
        // The root is read once: it was opened above to tell an unreadable root.
        self.walk_entries(entries, self.key_prefix.trim_end_matches('/'), &mut walk);
        walk.objects.sort_by(|a, b| a.key.cmp(&b.key));
        walk.unreadable.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Listing {
            objects: walk.objects,
            anomalies: Vec::new(),
            unreadable: walk.unreadable,
            versioning: Versioning::LocalFolder,
        })
    }

    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, FetchError> {
        let rel = object
            .key
            .strip_prefix(&self.key_prefix)
            .unwrap_or(&object.key);
        // The listing's size sizes the buffer: a `stat` per report is not needed.
        fs::File::open(self.root.join(rel))
            .and_then(|file| read_file_capped(file, MAX_REPORT_BYTES, object.size))
            .map_err(|e| FetchError::Object(e.to_string()))
    }

    fn head(&self) -> Result<HeadLookup, SourceError> {
        let path = if self.root.join("reports").is_dir() {
            self.root.join("chain").join("head.json")
        } else if let Some(above) = &self.above_reports {
            above.join(layout::head_key(&self.key_prefix))
        } else {
            return Ok(HeadLookup::NotLookedFor(NOT_ROOTED.to_owned()));
        };
        let copies = if path.exists() || fs::symlink_metadata(&path).is_ok() {
            vec![HeadCopy {
                version: "current".to_owned(),
                latest: true,
                bytes: read_capped(&path, super::HEAD_MAX_BYTES).map_err(|e| e.to_string()),
            }]
        } else {
            Vec::new()
        };
        Ok(HeadLookup::Looked {
            location: path.display().to_string(),
            copies,
            deleted: false,
        })
    }

    fn layout(&self) -> Result<Layout, SourceError> {
        let Some((reports, only)) = self.reports_folder() else {
            return Ok(Layout::Single);
        };
        // Keys of folders are relative to the bucket root: `reports/<account>/`.
        let list = |folders: &[String]| -> Result<Vec<FolderListing>, SourceError> {
            Ok(folders
                .iter()
                .map(|f| {
                    let rel = f.strip_prefix("reports/").unwrap_or(f);
                    list_folder(&reports.join(rel))
                })
                .collect())
        };
        match only {
            // A root at `reports/<account>/` lists the folder it is in as that account's.
            Some(account) => layout::discover("reports/", Some(&account), |folders| {
                Ok(folders.iter().map(|_| list_folder(&self.root)).collect())
            }),
            None => layout::discover("reports/", None, list),
        }
    }

    fn trail(&self, id: &TrailId) -> Result<Box<dyn ReportSource>, SourceError> {
        let folder = self.trail_folder(id).ok_or_else(|| {
            SourceError::BadLocation(format!("{}: holds no trail {id}", self.name))
        })?;
        // Built from what this source already resolved, as `new` would build it from the
        // folder's canonical path (which costs a `readlink` per path component, per trail).
        Ok(Box::new(LocalSource {
            name: folder.display().to_string(),
            root: folder,
            key_prefix: format!("reports/{}/{}/", id.account, id.region),
            above_reports: self.trail_root(),
        }))
    }

    /// A folder keeps one version of each file: `version_id` cannot be honoured (the check
    /// says so), and the file's bytes are read.
    fn register(
        &self,
        key: &str,
        _version_id: Option<&str>,
    ) -> Result<RegisterLookup, SourceError> {
        let Some(base) = self.trail_root() else {
            return Ok(RegisterLookup::NotLookedFor(NOT_ROOTED.to_owned()));
        };
        if !register_key_is_safe(key) {
            return Ok(RegisterLookup::NotLookedFor(format!(
                "{key} is not a key under exceptions/"
            )));
        }
        let path = base.join(key);
        let present = fs::symlink_metadata(&path).is_ok();
        Ok(RegisterLookup::Looked {
            location: path.display().to_string(),
            versioned: false,
            versions: usize::from(present),
            delete_markers: 0,
            deleted: false,
            bytes: present.then(|| {
                read_capped(&path, crate::register::MAX_REGISTER_BYTES).map_err(|e| e.to_string())
            }),
        })
    }
}

/// The entries of one folder of the layout; symbolic links are followed to tell folders.
fn list_folder(dir: &Path) -> FolderListing {
    let entries = fs::read_dir(dir).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        out.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            folder: fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
