//! Progress bars and per-epoch lines on the terminal.

use indicatif::{ProgressBar, ProgressStyle};
use lab::job::EpochMetrics;
use lab::results::RunRecord;
use lab::runner::RunObserver;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Draws one bar over all mini-batches of all runs, and prints a line per epoch.
pub struct Terminal<'w> {
    out: Mutex<&'w mut (dyn Write + Send)>,
    bar: OnceLock<ProgressBar>,
    multi_run: OnceLock<bool>,
    /// Short names of the grid points by index, e.g. `alpha=0.5 kind=DpTop`.
    points: BTreeMap<usize, String>,
    /// Only the bar, no per-epoch lines.
    quiet: bool,
}

impl<'w> Terminal<'w> {
    /// A reporter writing its lines to `out`, naming points by `points`; it draws no bar until the
    /// plan is known, and with `quiet` prints nothing but the bar.
    pub fn new(
        out: Mutex<&'w mut (dyn Write + Send)>,
        points: BTreeMap<usize, String>,
        quiet: bool,
    ) -> Self {
        Self {
            out,
            bar: OnceLock::new(),
            multi_run: OnceLock::new(),
            points,
            quiet,
        }
    }

    fn run_name(&self, point: usize, seed: u64) -> String {
        match self.points.get(&point).filter(|p| !p.is_empty()) {
            Some(params) => format!("{params} seed {seed}"),
            None => format!("point {point} seed {seed}"),
        }
    }

    fn line(&self, text: String) {
        if self.quiet {
            return;
        }
        match self.bar.get() {
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => {
                let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writeln!(out, "{text}");
            }
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

impl RunObserver for Terminal<'_> {
    fn planned(&self, todo: usize, done: usize, epochs: usize, batches: usize) {
        if done > 0 {
            self.line(format!(
                "resuming: {done} runs already finished, {todo} to go"
            ));
        }
        let _ = self.multi_run.set(todo + done > 1);
        let bar = ProgressBar::new((todo * epochs * batches) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} batches ({eta} left)",
            )
            .expect("static template"),
        );
        let _ = self.bar.set(bar);
    }

    fn resumed(&self, point: usize, seed: u64, epoch: usize, batch: usize, done: usize) {
        if let Some(bar) = self.bar.get() {
            bar.inc(done as u64);
        }
        let at = if batch == 0 {
            format!("after epoch {}", epoch - 1)
        } else {
            format!("at mini-batch {} of epoch {epoch}", batch + 1)
        };
        self.line(format!(
            "{} continues from its checkpoint {at}",
            self.run_name(point, seed)
        ));
    }

    fn batch(&self, _point: usize, _seed: u64) {
        if let Some(bar) = self.bar.get() {
            bar.inc(1);
        }
    }

    fn epoch(&self, point: usize, seed: u64, m: &EpochMetrics) {
        let prefix = if self.multi_run.get().copied().unwrap_or(false) {
            format!("{} ", self.run_name(point, seed))
        } else {
            String::new()
        };
        self.line(format!(
            "{prefix}epoch {:>3}  train loss {:.4} acc {:5.1}%  test loss {:.4} acc {:5.1}%",
            m.epoch,
            m.train_loss,
            100.0 * m.train_acc,
            m.test_loss,
            100.0 * m.test_acc
        ));
    }

    fn finished(&self, record: &RunRecord) {
        if let Some(d) = &record.divergence {
            self.line(format!(
                "{} diverged at epoch {} batch {}: {}",
                self.run_name(record.point, record.seed),
                d.epoch,
                d.batch,
                d.reason
            ));
        }
    }
}
