//! `--format csv`: every table of the timeline in one file, as sections a spreadsheet opens
//! directly. Each section is a row `section,<name>`, a header row, the data rows, and one empty row.
//! Sections, in order: `summary`, `daily`, `rules`, `exposures`, `longest_open`, `monitoring`,
//! `chain_problems`, `cadence_gaps`.

use super::Renderer;
use crate::error::RenderError;
use crate::timeline::Timeline;

pub struct CsvRenderer;

struct Sections {
    out: csv::Writer<Vec<u8>>,
}

impl Sections {
    fn row<I, S>(&mut self, cells: I) -> Result<(), RenderError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.out
            .write_record(cells)
            .map_err(|e| RenderError::Csv(e.to_string()))
    }

    fn section(&mut self, name: &str, header: &[&str]) -> Result<(), RenderError> {
        self.row(["section", name])?;
        self.row(header)
    }

    fn end(&mut self) -> Result<(), RenderError> {
        self.out
            .write_record(None::<&[u8]>)
            .map_err(|e| RenderError::Csv(e.to_string()))
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

impl Renderer for CsvRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let out = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        let mut s = Sections { out };
        let c = &t.chain;
        s.section("summary", &["field", "value"])?;
        for (k, v) in [
            ("source", t.source.clone()),
            ("period", t.period.label.clone()),
            ("from", t.period.from.to_string()),
            ("to", t.period.to.to_string()),
            ("through", t.period.through.to_string()),
            ("chain_intact", c.intact.to_string()),
            ("reports_checked", c.reports.to_string()),
            ("chain_problems", c.problems.len().to_string()),
            ("cadence_gaps", c.gaps.len().to_string()),
            (
                "days_with_report",
                t.monitoring.days_with_report.to_string(),
            ),
            (
                "days_without_report",
                t.monitoring.days_without_report.to_string(),
            ),
            (
                "days_with_monitoring_issues",
                t.monitoring.days_with_issues.to_string(),
            ),
        ] {
            s.row([k, v.as_str()])?;
        }
        s.end()?;

        let mut header: Vec<String> = ["date", "state", "gap", "report", "total"]
            .map(String::from)
            .to_vec();
        header.extend(t.rules.iter().map(|r| format!("rule:{r}")));
        header.extend(t.resource_types.iter().map(|r| format!("type:{r}")));
        s.row(["section", "daily"])?;
        s.row(&header)?;
        for d in &t.days {
            let mut row = vec![
                d.date.to_string(),
                format!("{:?}", d.state).to_lowercase(),
                d.gap.to_string(),
                d.report.clone().unwrap_or_default(),
                d.total.to_string(),
            ];
            row.extend(
                t.rules
                    .iter()
                    .map(|r| d.by_rule.get(r).copied().unwrap_or(0).to_string()),
            );
            row.extend(
                t.resource_types
                    .iter()
                    .map(|r| d.by_resource_type.get(r).copied().unwrap_or(0).to_string()),
            );
            s.row(&row)?;
        }
        s.end()?;

        s.section(
            "rules",
            &[
                "rule",
                "open_at_start",
                "open_at_end",
                "opened",
                "resolved",
                "reopened",
                "mean_days_to_remediate",
                "max_days_to_remediate",
                "remediated_windows",
            ],
        )?;
        for r in &t.rule_stats {
            s.row([
                r.rule.clone(),
                r.open_at_start.to_string(),
                r.open_at_end.to_string(),
                r.opened.to_string(),
                r.resolved.to_string(),
                r.reopened.to_string(),
                opt(r.mean_days_to_remediate),
                opt(r.max_days_to_remediate),
                r.remediated_windows.to_string(),
            ])?;
        }
        s.end()?;

        let exposure_header = [
            "rule",
            "resource_type",
            "resource_id",
            "first_seen",
            "opened_before_period",
            "resolved_at",
            "open_at_end",
            "days_non_compliant",
            "times_reopened",
        ];
        for (name, list) in [
            ("exposures", &t.exposures),
            ("longest_open", &t.longest_open),
        ] {
            s.section(name, &exposure_header)?;
            for e in list {
                s.row([
                    e.rule.clone(),
                    e.resource_type.clone(),
                    e.resource_id.clone(),
                    e.first_seen.to_string(),
                    e.opened_before_period.to_string(),
                    opt(e.resolved_at),
                    e.open_at_end.to_string(),
                    e.days_non_compliant.to_string(),
                    e.times_reopened.to_string(),
                ])?;
            }
            s.end()?;
        }

        s.section(
            "monitoring",
            &["date", "kind", "subject", "detail", "reports"],
        )?;
        for d in &t.monitoring.days {
            for i in &d.issues {
                s.row([
                    d.date.to_string(),
                    i.kind.label().to_owned(),
                    i.subject.clone(),
                    i.detail.clone(),
                    d.reports.join(" "),
                ])?;
            }
        }
        s.end()?;

        s.section("chain_problems", &["code", "key", "detail"])?;
        for p in &c.problems {
            s.row([p.code, p.key.as_str(), p.detail.as_str()])?;
        }
        s.end()?;

        s.section(
            "cadence_gaps",
            &[
                "from",
                "to",
                "hours",
                "missing_dates",
                "after_key",
                "before_key",
            ],
        )?;
        for g in &c.gaps {
            let dates: Vec<String> = g.missing_dates.iter().map(|d| d.to_string()).collect();
            s.row([
                g.from.to_rfc3339(),
                g.to.to_rfc3339(),
                g.hours.to_string(),
                dates.join(" "),
                g.after_key.clone(),
                g.before_key.clone(),
            ])?;
        }
        s.end()?;
        s.out
            .into_inner()
            .map_err(|e| RenderError::Csv(e.to_string()))
    }
}
