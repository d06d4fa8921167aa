//! `auditor timeline` over an organization's bucket: each trail's timeline of the period,
//! computed as for one trail, a bounded number at a time; each is rendered into its per-trail
//! detail on the worker that computed it and reduced to its figures for the roll-up (see
//! [`super::rollup`]), then dropped. The caller stores the details in trail order and writes the
//! roll-up, which opens every output, once all trails are read.

use indicatif::ProgressBar;

use super::rollup::{OrgTimeline, Rollup, TrailFigures};
use super::{Organization, TrailName, ends_the_run, for_each_trail};
use crate::commands::{self, TimelineOptions};
use crate::error::{OrganizationError, RenderError};
use crate::scan::Fanout;
use crate::timeline::Timeline;

/// A trail's rendered detail: one part per section of the output (one for JSON and HTML).
pub type Detail = Vec<Vec<u8>>;

/// Renders a trail's detail; runs on the workers.
pub type RenderDetail<'r> =
    dyn Fn(&TrailName, &Timeline) -> Result<Detail, RenderError> + Sync + 'r;

/// The organization's timeline of `opts.period`: `render` gives each trail's detail, handed to
/// `store` in trail order; the roll-up is returned. A trail that cannot be listed is a row of its
/// own (`unreadable`) without detail; an endpoint that stops answering ends the run.
pub fn timeline(
    org: &Organization<'_>,
    opts: TimelineOptions,
    progress: &ProgressBar,
    render: &RenderDetail<'_>,
    store: &mut dyn FnMut(&TrailName, Detail) -> Result<(), RenderError>,
) -> Result<OrgTimeline, OrganizationError> {
    let trails = &org.discovery.trails;
    let names = org.names();
    let moment = opts.as_of.unwrap_or(opts.now);
    let mut rollup = Rollup::new(opts.period, moment.date_naive());
    progress.set_length(trails.len() as u64);
    let hidden = ProgressBar::hidden();
    // Trails run side by side, so each is read on its worker's thread (see `Fanout`).
    let opts = TimelineOptions {
        fanout: Fanout::ThisThread,
        ..opts
    };
    for_each_trail(
        trails,
        org.jobs,
        |id| {
            let name = &names[trails.binary_search(id).unwrap_or_default()];
            let source = org.source.trail(id)?;
            match commands::timeline(source.as_ref(), opts, &hidden) {
                Ok((t, notes)) => {
                    let figures = TrailFigures::of(name, source.name(), &t, notes.unplaced_keys);
                    let detail = render(name, &t)?;
                    Ok((figures, Some(detail)))
                }
                Err(e) if ends_the_run(&e) => Err(OrganizationError::Source(e)),
                Err(e) => Ok((
                    TrailFigures::unreadable(name, source.name(), e.to_string()),
                    None,
                )),
            }
        },
        |i, (figures, detail)| {
            if let Some(detail) = detail {
                store(&names[i], detail)?;
            }
            rollup.add(figures);
            progress.inc(1);
            Ok(())
        },
    )?;
    progress.finish_and_clear();
    let label = match opts.period.label() {
        quarter if !quarter.contains(" to ") => {
            format!("{quarter} ({} to {})", opts.period.from, opts.period.to)
        }
        range => range,
    };
    let provenance = org.provenance(label, opts.now, opts.as_of);
    Ok(rollup.finish(provenance, org.problems()))
}
