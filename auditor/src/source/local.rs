//! A local folder of reports, read recursively. The folder may be a copy of the bucket root, of
//! `reports/`, or of any folder below it: keys are paths relative to the folder, and the chain
//! check compares them with `previousKey` from `reports/` on (see [`crate::key`]).

use std::fs;
use std::path::{Path, PathBuf};

use super::{Listing, ReportSource, StoredObject};
use crate::error::SourceError;

/// Reports under a folder on disk.
#[derive(Debug, Clone)]
pub struct LocalSource {
    name: String,
    root: PathBuf,
    /// For a folder inside a `reports/` tree (e.g. `copy/reports/2026`), its path from `reports/`
    /// on (`reports/2026/`), put in front of every key so keys keep their date folders.
    key_prefix: String,
}

impl LocalSource {
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref().to_path_buf();
        let absolute = fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        let parts: Vec<String> = absolute
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect();
        let key_prefix = match parts.iter().rposition(|p| p == "reports") {
            Some(i) if i + 1 < parts.len() => format!("{}/", parts[i..].join("/")),
            _ => String::new(),
        };
        LocalSource {
            name: root.display().to_string(),
            root,
            key_prefix,
        }
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<StoredObject>) -> Result<(), SourceError> {
        let entries = fs::read_dir(dir).map_err(|e| self.folder_error(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.folder_error(dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let key = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let meta =
                fs::metadata(entry.path()).map_err(|e| self.folder_error(&entry.path(), e))?;
            if meta.is_dir() {
                self.walk(&entry.path(), &key, out)?;
            } else if meta.is_file() && key.ends_with(".json") {
                out.push(StoredObject {
                    key,
                    size: meta.len(),
                    version_id: None,
                });
            }
        }
        Ok(())
    }

    fn folder_error(&self, path: &Path, e: std::io::Error) -> SourceError {
        SourceError::Folder {
            source_name: self.name.clone(),
            reason: format!("{}: {e}", path.display()),
        }
    }
}

impl ReportSource for LocalSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&self) -> Result<Listing, SourceError> {
        if !self.root.is_dir() {
            return Err(SourceError::Folder {
                source_name: self.name.clone(),
                reason: "not a folder (give a folder of reports or s3://bucket/prefix)".to_owned(),
            });
        }
        let mut objects = Vec::new();
        self.walk(
            &self.root,
            self.key_prefix.trim_end_matches('/'),
            &mut objects,
        )?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Listing {
            objects,
            anomalies: Vec::new(),
            versions_checked: false,
        })
    }

    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, String> {
        let rel = object
            .key
            .strip_prefix(&self.key_prefix)
            .unwrap_or(&object.key);
        fs::read(self.root.join(rel)).map_err(|e| e.to_string())
    }
}
