//! `--format csv`: every table of the timeline in one file, as sections a spreadsheet opens
//! directly. Each section is a row `section,<name>`, a header row, the data rows, and one empty row.
//! Sections, in order: `provenance`, `summary`, `daily`, `rules`, `exposure_windows`,
//! `longest_open`, `monitoring`, `chain_problems`, `cadence_gaps`. The rows come from [`Rows`], which also
//! neutralises text cells a spreadsheet would evaluate; this file only writes them.

use super::Renderer;
use super::rows::{DayRows, Rows, Table};
use crate::error::RenderError;
use crate::timeline::Timeline;

pub struct CsvRenderer;

fn csv_error(e: csv::Error) -> RenderError {
    RenderError::Csv(e.to_string())
}

/// Writes one section: its name, its header, its rows and an empty row.
pub(super) fn section<T: Clone>(
    out: &mut csv::Writer<Vec<u8>>,
    table: Table<'_, '_, T>,
) -> Result<(), RenderError> {
    out.write_record(["section", table.name])
        .map_err(csv_error)?;
    out.write_record(table.fields()).map_err(csv_error)?;
    for row in table.data_rows() {
        out.write_record(&row).map_err(csv_error)?;
    }
    out.write_record(None::<&[u8]>).map_err(csv_error)
}

impl Renderer for CsvRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let rows = Rows::new(t);
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        // Each section is written row by row: no table is held as text beside the output.
        section(&mut out, rows.provenance())?;
        section(&mut out, rows.summary())?;
        section(&mut out, rows.daily(DayRows::Every))?;
        section(&mut out, rows.rules())?;
        section(&mut out, rows.exposure_windows(usize::MAX))?;
        section(&mut out, rows.longest_open())?;
        section(&mut out, rows.monitoring(usize::MAX))?;
        section(&mut out, rows.chain_problems(usize::MAX))?;
        section(&mut out, rows.cadence_gaps(usize::MAX))?;
        out.into_inner()
            .map_err(|e| RenderError::Csv(e.to_string()))
    }
}
