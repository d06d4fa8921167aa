//! `--format json`: the [`Timeline`] as pretty JSON; field names are documented in the README.

use super::Renderer;
use crate::error::RenderError;
use crate::timeline::Timeline;

pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, timeline: &Timeline) -> Result<Vec<u8>, RenderError> {
        let mut out = serde_json::to_vec_pretty(timeline)?;
        out.push(b'\n');
        Ok(out)
    }
}
