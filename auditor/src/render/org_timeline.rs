//! Output of `auditor timeline` over an organization. The roll-up opens every format, but it is
//! known only once every trail is read, while each trail's detail is ready as soon as that trail
//! is: so the details are kept aside in temporary files (in trail order) and the output is
//! assembled at the end, the roll-up first. Memory holds one trail's detail at a time, whatever
//! the number of trails.
//!
//! * `json`: the roll-up ([`OrgTimeline`], format `auditor-timeline-organization/1`) and, under
//!   `trails`, each trail's `{account, region, name, timeline}` with the single trail's timeline
//!   document; compact, one trail per line.
//! * `csv`: the roll-up's sections (`provenance`, `trail_reports`, `summary`, `trails`,
//!   `rule_totals`, `daily_totals`, `worst_exposures`, `organization_problems`), then every
//!   trail's detail in sections whose rows begin with the account and region (`trail_daily`: a
//!   row per day and rule, `trail_exposure_windows`, `trail_chain_problems`,
//!   `trail_cadence_gaps`, `trail_monitoring`).
//! * `md`: the roll-up (each trail's detail is in the other formats).
//! * `html`: a folder: `index.html` (the roll-up, linking each trail's page) and
//!   `<account>-<region>.html`, the single trail's page, for each trail. The folder is built
//!   beside the one named and put in its place when complete.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::org_rows::{OrgRows, TRAIL_SECTIONS, trail_sections};
use super::{Renderer, TimelineFormat};
use crate::error::RenderError;
use crate::organization::TrailName;
use crate::organization::rollup::OrgTimeline;
use crate::organization::timeline::Detail;
use crate::timeline::Timeline;

#[derive(Serialize)]
struct TrailDocument<'a> {
    #[serde(flatten)]
    trail: &'a TrailName,
    timeline: &'a Timeline,
}

const DETAIL_CAPACITY: usize = 256 << 10;

/// Renders one trail's detail in `format` (see the module's description).
pub fn render_detail(
    format: TimelineFormat,
    trail: &TrailName,
    t: &Timeline,
) -> Result<Detail, RenderError> {
    Ok(match format {
        TimelineFormat::Json => {
            // Sized for a month of a member account's trail (about 170 kB), so the buffer is not
            // grown a dozen times for each of thousands of trails.
            let mut out = Vec::with_capacity(DETAIL_CAPACITY);
            serde_json::to_writer(&mut out, &TrailDocument { trail, timeline: t })?;
            vec![out]
        }
        TimelineFormat::Csv => {
            let mut parts = Vec::new();
            for (_, header, rows) in trail_sections(trail, t) {
                let mut head = csv::Writer::from_writer(Vec::new());
                head.write_record(&header).map_err(csv_error)?;
                let mut body = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(Vec::new());
                for row in rows {
                    body.write_record(&row).map_err(csv_error)?;
                }
                parts.push(into_bytes(head)?);
                parts.push(into_bytes(body)?);
            }
            parts
        }
        TimelineFormat::Md => Vec::new(),
        TimelineFormat::Html => vec![super::HtmlRenderer.render(t)?],
    })
}

fn csv_error(e: csv::Error) -> RenderError {
    RenderError::Csv(e.to_string())
}

fn into_bytes(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
    w.into_inner().map_err(|e| RenderError::Csv(e.to_string()))
}

/// Collects the trails' details, in trail order, and writes the output at the end.
pub struct OrgWriter {
    format: TimelineFormat,
    /// One temporary file per section of the detail (JSON: one).
    spools: Vec<fs::File>,
    /// The CSV header of each detail section, from the first trail.
    headers: Vec<Vec<u8>>,
    stored: usize,
    folder: Option<ReportFolder>,
}

impl OrgWriter {
    /// A writer for `format`; HTML needs `output`, the folder to write.
    pub fn new(format: TimelineFormat, output: Option<&Path>) -> Result<Self, RenderError> {
        let spools = match format {
            TimelineFormat::Json => 1,
            TimelineFormat::Csv => TRAIL_SECTIONS.len(),
            TimelineFormat::Md | TimelineFormat::Html => 0,
        };
        let folder = match (format, output) {
            (TimelineFormat::Html, Some(path)) => Some(ReportFolder::start(path)?),
            (TimelineFormat::Html, None) => {
                return Err(RenderError::Io(std::io::Error::other(
                    "an organization's HTML report is a folder (an index page and a page per trail): give -o FOLDER",
                )));
            }
            _ => None,
        };
        Ok(OrgWriter {
            format,
            spools: (0..spools)
                .map(|_| tempfile::tempfile())
                .collect::<Result<_, _>>()?,
            headers: Vec::new(),
            stored: 0,
            folder,
        })
    }

    /// Keeps one trail's detail; called in trail order.
    pub fn store(&mut self, trail: &TrailName, detail: Detail) -> Result<(), RenderError> {
        match self.format {
            TimelineFormat::Json => {
                if self.stored > 0 {
                    self.spools[0].write_all(b",\n")?;
                }
                for part in &detail {
                    self.spools[0].write_all(part)?;
                }
            }
            TimelineFormat::Csv => {
                for (i, pair) in detail.chunks(2).enumerate() {
                    if let [head, body] = pair {
                        if self.headers.len() <= i {
                            self.headers.push(head.clone());
                        }
                        if let Some(spool) = self.spools.get_mut(i) {
                            spool.write_all(body)?;
                        }
                    }
                }
            }
            TimelineFormat::Html => {
                if let (Some(folder), Some(page)) = (&self.folder, detail.first()) {
                    let name = super::org_html::trail_page(&trail.account, &trail.region);
                    fs::write(folder.partial.join(name), page)?;
                }
            }
            TimelineFormat::Md => {}
        }
        self.stored += 1;
        Ok(())
    }

    /// Writes the output: the roll-up first, then the details kept aside. The HTML folder is
    /// complete and in place when this returns; the other formats go to `out`.
    pub fn finish<W: Write + ?Sized>(
        mut self,
        org: &OrgTimeline,
        out: &mut W,
    ) -> Result<(), RenderError> {
        match self.format {
            TimelineFormat::Json => {
                let mut head = serde_json::to_vec(org)?;
                head.pop(); // the closing brace: the trails follow
                out.write_all(&head)?;
                out.write_all(b",\"trails\":[\n")?;
                copy(&mut self.spools[0], out)?;
                out.write_all(b"\n]}\n")?;
            }
            TimelineFormat::Csv => {
                out.write_all(&rollup_csv(org)?)?;
                for (i, name) in TRAIL_SECTIONS.iter().enumerate() {
                    let mut w = csv::WriterBuilder::new()
                        .flexible(true)
                        .from_writer(Vec::new());
                    w.write_record(["section", name]).map_err(csv_error)?;
                    let section = into_bytes(w)?;
                    out.write_all(&section)?;
                    match self.headers.get(i) {
                        Some(head) => out.write_all(head)?,
                        None => out.write_all(b"account,region\n")?,
                    }
                    copy(&mut self.spools[i], out)?;
                    // The empty row that ends a section, as the csv crate writes it.
                    out.write_all(b"\"\"\n")?;
                }
            }
            TimelineFormat::Md => out.write_all(&rollup_markdown(org).into_bytes())?,
            TimelineFormat::Html => {
                if let Some(folder) = self.folder.take() {
                    fs::write(
                        folder.partial.join("index.html"),
                        super::org_html::index(org)?,
                    )?;
                    folder.put_in_place()?;
                }
            }
        }
        out.flush()?;
        Ok(())
    }
}

const SPOOL_CHUNK: usize = 1 << 20;

fn copy<W: Write + ?Sized>(spool: &mut fs::File, out: &mut W) -> Result<(), RenderError> {
    spool.seek(SeekFrom::Start(0))?;
    // An organization's details run to hundreds of megabytes: into a file, `io::copy` has the
    // kernel copy them (`copy_file_range`); into anything else, it moves them in large pieces
    // rather than 8 KiB per call.
    std::io::copy(
        &mut std::io::BufReader::with_capacity(SPOOL_CHUNK, spool),
        out,
    )?;
    Ok(())
}

/// The roll-up's CSV sections.
fn rollup_csv(org: &OrgTimeline) -> Result<Vec<u8>, RenderError> {
    let rows = OrgRows::new(org);
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    super::csv::section(&mut out, rows.provenance())?;
    super::csv::section(&mut out, rows.trail_reports())?;
    super::csv::section(&mut out, rows.summary())?;
    super::csv::section(&mut out, rows.trails())?;
    super::csv::section(&mut out, rows.rule_totals())?;
    super::csv::section(&mut out, rows.daily())?;
    super::csv::section(&mut out, rows.worst_exposures())?;
    super::csv::section(&mut out, rows.problems())?;
    into_bytes(out)
}

/// The roll-up as Markdown.
fn rollup_markdown(org: &OrgTimeline) -> String {
    use super::markdown::{escape, table};
    use std::fmt::Write as _;
    let rows = OrgRows::new(org);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Organization compliance timeline: {}\n",
        escape(&org.period.label)
    );
    if let Some(statement) = rows.no_evidence() {
        let _ = writeln!(o, "**{}**\n", escape(statement));
    }
    table(&mut o, &rows.provenance().for_people());
    let _ = writeln!(o, "\n**{}**\n", escape(&rows.verdict()));
    let sections = [
        ("Per account and region", rows.trails().for_people()),
        ("Findings of the organization", rows.problems().for_people()),
        ("Rules over every trail", rows.rule_totals().for_people()),
        (
            "Worst exposures across the organization",
            rows.worst_exposures().for_people(),
        ),
        (
            "Each trail's first and newest report",
            rows.trail_reports().for_people(),
        ),
    ];
    for (heading, t) in sections {
        let _ = writeln!(o, "## {heading}\n");
        table(&mut o, &t);
        o.push('\n');
    }
    let _ = writeln!(o, "## Non-compliant resources per day, over every trail\n");
    let _ = writeln!(o, "{}\n", escape(rows.daily_note()));
    table(&mut o, &rows.daily().for_people());
    let _ = writeln!(
        o,
        "\nEach trail's detail (daily series, exposure windows, trail check) is in the HTML, CSV and JSON outputs."
    );
    o
}

/// The HTML report folder under construction: built as a hidden folder beside the one named and
/// renamed into place when complete, so a failed run never leaves half a report.
struct ReportFolder {
    target: PathBuf,
    partial: PathBuf,
    done: bool,
}

impl ReportFolder {
    fn start(target: &Path) -> Result<Self, RenderError> {
        // Replacing a folder is safe only when it is an earlier report (or empty): anything else
        // the user keeps there would be lost.
        if target.exists() {
            let earlier = target.join("index.html").is_file();
            let empty = fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !target.is_dir() || !(earlier || empty) {
                return Err(RenderError::Io(std::io::Error::other(format!(
                    "-o {}: exists and is not an organization report folder (no index.html); give a new or empty folder",
                    target.display()
                ))));
            }
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                RenderError::Io(std::io::Error::other(format!(
                    "-o {}: not a folder name",
                    target.display()
                )))
            })?;
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let partial = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let _ = fs::remove_dir_all(&partial);
        fs::create_dir_all(&partial)?;
        Ok(ReportFolder {
            target: target.to_path_buf(),
            partial,
            done: false,
        })
    }

    fn put_in_place(mut self) -> Result<(), RenderError> {
        let old = self.partial.with_extension("old");
        if self.target.exists() {
            fs::rename(&self.target, &old)?;
        }
        fs::rename(&self.partial, &self.target)?;
        self.done = true;
        let _ = fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for ReportFolder {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.partial);
        }
    }
}
