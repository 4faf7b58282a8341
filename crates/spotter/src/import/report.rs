//! What a run did, table by table, for the terminal (progress bars while it runs, a summary at
//! the end) and for `import_runs`.

use std::collections::BTreeMap;
use std::fmt;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::store::ImportAction;

/// Rows of one table.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// New to Spotter.
    pub imported: u64,
    /// Changed on the original since the last run.
    pub updated: u64,
    pub unchanged: u64,
    /// Gone from the original since the last run.
    pub removed: u64,
    /// Not imported, by reason.
    pub skipped: BTreeMap<String, u64>,
}

/// Image files of messages.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Images {
    pub copied: u64,
    /// Not in `--media-dir` (or no `--media-dir`): the message has no image.
    pub missing: u64,
    /// Not a JPEG, PNG or WebP that decodes: the message has no image.
    pub invalid: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub dry_run: bool,
    pub tables: BTreeMap<String, Counts>,
    pub images: Images,
    pub seconds: f64,
}

impl Summary {
    pub fn new(dry_run: bool) -> Self {
        let tables = [
            "users",
            "conversations",
            "messages",
            "devices",
            "notification_preferences",
        ]
        .into_iter()
        .map(|t| (t.to_owned(), Counts::default()))
        .collect();
        Self {
            dry_run,
            tables,
            images: Images::default(),
            seconds: 0.0,
        }
    }

    pub fn count(&mut self, table: &str) -> &mut Counts {
        self.tables.entry(table.to_owned()).or_default()
    }

    pub fn tally(&mut self, table: &str, action: ImportAction) {
        let counts = self.count(table);
        match action {
            ImportAction::Insert => counts.imported += 1,
            ImportAction::Update => counts.updated += 1,
        }
    }

    pub fn skip(&mut self, table: &str, reason: &str) {
        *self
            .count(table)
            .skipped
            .entry(reason.to_owned())
            .or_default() += 1;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.dry_run {
            "Dry run: nothing was written. This is what an import would do."
        } else {
            "Import finished."
        };
        writeln!(f, "{what} ({:.1} s)", self.seconds)?;
        writeln!(
            f,
            "{:<26} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "table", "imported", "updated", "unchanged", "removed", "skipped"
        )?;
        for (table, c) in &self.tables {
            let skipped: u64 = c.skipped.values().sum();
            writeln!(
                f,
                "{table:<26} {:>10} {:>10} {:>10} {:>10} {skipped:>10}",
                c.imported, c.updated, c.unchanged, c.removed
            )?;
            for (reason, n) in &c.skipped {
                writeln!(f, "  skipped {n}: {reason}")?;
            }
        }
        writeln!(
            f,
            "images: {} copied, {} missing, {} not valid images",
            self.images.copied, self.images.missing, self.images.invalid
        )
    }
}

/// Progress bars on stderr when it is a terminal (and asked for), nothing otherwise.
pub struct Progress {
    shown: bool,
}

impl Progress {
    pub fn new(shown: bool) -> Self {
        Self { shown }
    }

    pub fn bar(&self, table: &'static str, total: u64) -> ProgressBar {
        if !self.shown {
            return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        }
        let style = ProgressStyle::with_template(
            "{prefix:>14} [{bar:30}] {pos}/{len} rows, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        ProgressBar::new(total).with_style(style).with_prefix(table)
    }
}
