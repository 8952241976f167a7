//! `dyadsim tolerance` and the `tolerance:` section of `dyadsim run`: flags into a search, a bar
//! per round of probes, and the answer on the terminal.

use crate::cli::ToleranceArgs;
use crate::flags::Usage;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use lab::runner::RunObserver;
use lab::tolerance::{Choice, Plan, Scale, ToleranceOptions, ToleranceSpec, output};
use lab::{Experiment, dataset, load};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `dyadsim tolerance EXPERIMENT.ron --axis PATH ...`.
pub fn command(args: &ToleranceArgs, w: &mut (dyn Write + Send)) -> Result<u8> {
    let exp = load::experiment(&args.experiment)?;
    let spec = ToleranceSpec {
        axis: args.axis.clone(),
        from: args.from,
        to: args.to,
        around: args.around,
        max_drop: args.max_drop,
        relative: args.relative,
        metric: args.metric.clone(),
        seeds: args.seeds,
        confidence: args.confidence,
        resolution: args.resolution,
        scale: args.scale.map(|s| match s {
            crate::cli::ScaleArg::Linear => Scale::Linear,
            crate::cli::ScaleArg::Log => Scale::Log,
        }),
        compare: args.compare.as_deref().map(Choice::parse),
        across: args.across.as_deref().map(Choice::parse),
    };
    let plan = Plan::resolve(&exp, &spec)
        .map_err(|e| Usage(format!("--{} {}", e.field.replace('_', "-"), e.message)))?;
    // Without --seeds the seeds are the file's: the problem is its list, the remedy the flag.
    plan.check_seeds().map_err(|e| lab::LabError::Invalid {
        path: args.experiment.clone(),
        position: lab::load::locate(
            &lab::error::read_input(&args.experiment).unwrap_or_default(),
            "seeds",
        ),
        field: "seeds".into(),
        message: e
            .message
            .replace("set tolerance.seeds to 2 or more", "pass --seeds 2 or more"),
    })?;
    search(
        &args.experiment,
        &exp,
        &plan,
        Search {
            out: args.out.clone(),
            fresh: args.fresh,
            threads: args.threads,
            command: format!("dyadsim tolerance {}", args.experiment.display()),
        },
        w,
    )
}

/// Where and how a search runs, and the command that holds the folder's lock meanwhile.
pub struct Search {
    /// Results folder [default: runs/<name>-tolerance].
    pub out: Option<PathBuf>,
    /// Discard earlier records first.
    pub fresh: bool,
    /// Worker threads, and probes per round.
    pub threads: Option<usize>,
    /// The command as the lock file names it.
    pub command: String,
}

/// Run the search `plan` of `exp` (read from `path`) and print the answer.
///
/// The results folder is locked for the whole search, as `run` locks it: a second search, run,
/// plot or merge of the folder meanwhile is refused, naming this one.
pub fn search(
    path: &Path,
    exp: &Experiment,
    plan: &Plan,
    how: Search,
    w: &mut (dyn Write + Send),
) -> Result<u8> {
    let Search {
        out,
        fresh,
        threads,
        command,
    } = how;
    let data = dataset::load(&exp.dataset, path)?;
    lab::job::check_shapes(exp, &data, path)?;
    let out = out.unwrap_or_else(|| Path::new("runs").join(format!("{}-tolerance", exp.name)));
    let _lock = lab::lock::lock(&out, &command)?;
    lab::tolerance::prepare_folder(&out, exp, plan, fresh)?;
    writeln!(
        w,
        "{}: tolerance of {} from {} towards {:?} ({}, {} seeds), results in {}",
        exp.name,
        plan.axis,
        plan.reference,
        plan.ends,
        plan.metric,
        plan.seeds.len(),
        out.display()
    )?;
    let opts = ToleranceOptions {
        out: out.clone(),
        fresh,
        threads,
    };
    let rounds = Rounds {
        out: Mutex::new(&mut *w),
        bar: Mutex::new(None),
        round: AtomicUsize::new(0),
    };
    let report = lab::tolerance::run(exp, plan, &data, &opts, &rounds);
    rounds.finish();
    drop(rounds);
    let report = report?;
    output::write(&out, &report, exp.figures.dpi)?;
    writeln!(w, "{}", output::sentence(&report))?;
    write!(w, "{}", output::table(&report))?;
    writeln!(
        w,
        "{}/tolerance.json, tolerance.csv and tolerance.png",
        out.display()
    )?;
    Ok(crate::SUCCESS)
}

/// One line and one bar per round of probes.
struct Rounds<'w> {
    out: Mutex<&'w mut (dyn Write + Send)>,
    bar: Mutex<Option<ProgressBar>>,
    round: AtomicUsize,
}

impl Rounds<'_> {
    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

impl RunObserver for Rounds<'_> {
    fn planned(&self, todo: usize, done: usize, epochs: usize, batches: usize) {
        self.finish();
        let round = self.round.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(
                out,
                "round {round}: {todo} runs to train ({done} runs in the folder)"
            );
        }
        let bar = ProgressBar::new((todo * epochs * batches) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} batches",
            )
            .expect("static template"),
        );
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn batch(&self, _point: usize, _seed: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.inc(1);
        }
    }
}
