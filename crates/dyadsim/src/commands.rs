//! The subcommands, each a thin call into `lab`.

use crate::cli::{
    ActivationArg, AlgorithmArg, Cli, Command, GradcheckArgs, LossArg, OutputArg, ScheduleArg,
};
use crate::flags::Usage;
use crate::progress::Terminal;
use anyhow::{Context, Result};
use lab::LabError;
use lab::gradcheck::{GradcheckOptions, gradcheck};
use lab::runner::{RunOptions, Shard, run};
use lab::spec::{Activation, Algorithm, AlgorithmKind, Circuit, Loss, OutputMode, Schedule};
use lab::{dataset, load, report};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Run the chosen subcommand.
pub fn dispatch(cli: Cli, out: &mut (dyn Write + Send)) -> Result<u8> {
    match cli.command {
        Command::Run {
            experiment,
            out: out_dir,
            fresh,
            threads,
            shard,
            checkpoint_minutes,
            quiet,
        } => {
            let shard = shard.map(|s| Shard::parse(&s)).transpose()?;
            let opts = |out: PathBuf| RunOptions {
                out,
                fresh,
                threads,
                shard,
                checkpoint_every: checkpoint_minutes.0,
            };
            run_experiment(&experiment, out_dir, opts, quiet, out)
        }
        Command::Merge { dirs, out: merged } => {
            let target = merged.unwrap_or_else(|| dirs[0].clone());
            let _locks = lock_all(&dirs, &target)?;
            let merged = lab::runner::merge(&dirs, &target)?;
            // A merge of an incomplete set succeeds, even of one with no finished run: the
            // tables say so and the missing runs are listed; there is nothing to draw.
            if !merged.records.is_empty() {
                draw_folder(&target, &dirs)?;
            }
            writeln!(
                out,
                "merged {} runs into {}",
                merged.records.len(),
                target.display()
            )?;
            if merged.records.is_empty() {
                writeln!(out, "no figures: the folders hold no finished run")?;
            }
            if !merged.missing.is_empty() {
                let runs: Vec<String> = merged
                    .missing
                    .iter()
                    .map(|(p, s)| format!("point {p} seed {s}"))
                    .collect();
                writeln!(
                    out,
                    "incomplete: {} run(s) of the grid missing ({}); summary.json says \"complete\": false",
                    runs.len(),
                    runs.join(", ")
                )?;
            }
            Ok(crate::SUCCESS)
        }
        Command::Device {
            hardware,
            pulses,
            devices,
            seed,
            out: out_dir,
            drift,
            times,
            targets,
        } => {
            let presets = hardware
                .iter()
                .map(|p| Ok((p.clone(), lab::hardware::load_file(p)?)))
                .collect::<Result<Vec<_>>>()?;
            let drift = if drift {
                Some((
                    lab::device::parse_list("times", &times)?,
                    lab::device::parse_list("targets", &targets)?,
                ))
            } else {
                None
            };
            let opts = lab::device::DeviceOptions {
                pulses: lab::device::parse_programme(&pulses)?,
                devices,
                seed,
                drift,
            };
            let name = match hardware.as_slice() {
                [one] => format!(
                    "device-{}",
                    one.file_stem().and_then(|s| s.to_str()).unwrap_or("device")
                ),
                _ => "devices".to_owned(),
            };
            let dir = out_dir.unwrap_or_else(|| Path::new("runs").join(name));
            for stem in lab::device::characterise(&presets, &opts, &dir)? {
                writeln!(
                    out,
                    "{}.csv, {}.png, {}.svg",
                    stem.display(),
                    stem.display(),
                    stem.display()
                )?;
            }
            Ok(crate::SUCCESS)
        }
        Command::Plot { dir, dpi } => {
            let _lock = lab::lock::lock_as(
                &dir,
                &format!("dyadsim plot {}", dir.display()),
                &[],
                lab::folder::Role::Figures,
            )?;
            for stem in redraw_at(&dir, dpi)? {
                writeln!(out, "{}.png", stem.display())?;
            }
            Ok(crate::SUCCESS)
        }
        Command::Gradcheck(args) => run_gradcheck(&args, out),
        Command::Bench {
            json,
            quick,
            threads,
            only,
        } => run_bench(json, quick, threads, only, out),
        Command::Check(args) => run_check(&args, out),
        Command::Plan(args) => crate::plan::run(&args, out),
        Command::Tolerance(args) => crate::tolerance::command(&args, out),
    }
}

/// Lock the merge's source folders and its target, each once.
fn lock_all(dirs: &[PathBuf], target: &Path) -> Result<Vec<lab::lock::FolderLock>> {
    let mut locks: Vec<lab::lock::FolderLock> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in dirs.iter().map(PathBuf::as_path).chain([target]) {
        // A folder named twice (the default target is the first source) is locked once: a second
        // lock on it from this process would refuse.
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        // The target, when it is not one of the folders merged, is the only one written into.
        let role = if dirs.iter().any(|d| d == dir) {
            lab::folder::Role::MergeSource
        } else {
            lab::folder::Role::Output
        };
        locks.push(lab::lock::lock_as(
            dir,
            &format!("dyadsim merge into {}", target.display()),
            dirs,
            role,
        )?);
    }
    Ok(locks)
}

/// Draw the figures of a results folder whose lock is held (after a merge of `sources`); a
/// tolerance search's folder also gets its tolerance.json and tolerance.csv, from the merged
/// records.
fn draw_folder(dir: &Path, sources: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let exp = load::experiment(&dir.join(lab::folder::EXPERIMENT))?;
    if exp.tolerance.is_some() {
        // The merged folder's search is the one its sources ran, with their probes per round.
        let report = lab::tolerance::replay(dir, &exp, sources)?;
        return Ok(lab::tolerance::output::write(
            dir,
            &report,
            exp.figures.dpi,
        )?);
    }
    redraw(dir, &exp)
}

/// Draw the figures of a results folder from its records: those its experiment asks for, or a
/// tolerance search's (the search stepped through again on the records, nothing trained).
fn redraw(dir: &Path, exp: &lab::Experiment) -> Result<Vec<PathBuf>> {
    if exp.tolerance.is_some() {
        let report = lab::tolerance::replay(dir, exp, &[])?;
        return Ok(lab::tolerance::figures::draw(
            dir,
            &report,
            exp.figures.dpi,
        )?);
    }
    let records = lab::results::load_records_of(dir, exp)?;
    if records.is_empty() {
        return Err(LabError::Data {
            path: lab::results::records_dir(dir),
            message: "no finished runs to plot".into(),
        }
        .into());
    }
    Ok(report::draw(dir, exp, &records)?)
}

/// Draw the figures of a results folder from its records, at `dpi` instead of the experiment's.
fn redraw_at(dir: &Path, dpi: Option<u32>) -> Result<Vec<PathBuf>> {
    let mut exp = load::experiment(&dir.join(lab::folder::EXPERIMENT))?;
    if let Some(dpi) = dpi {
        let range = lab::plot_dpi_range();
        if !range.contains(&dpi) {
            return Err(Usage(format!(
                "--dpi must be in {}..={} (got {dpi})",
                range.start(),
                range.end()
            ))
            .into());
        }
        exp.figures.dpi = dpi;
    }
    redraw(dir, &exp)
}

fn run_experiment(
    path: &Path,
    out_dir: Option<PathBuf>,
    opts: impl Fn(PathBuf) -> RunOptions,
    quiet: bool,
    w: &mut (dyn Write + Send),
) -> Result<u8> {
    let exp = load::experiment(path)?;
    if let Some(spec) = &exp.tolerance {
        let place = |e: lab::FieldError| {
            lab::load::placed(e, &lab::error::read_input(path).unwrap_or_default(), path)
        };
        let plan =
            lab::tolerance::Plan::resolve(&exp, spec).map_err(|e| place(e.under("tolerance")))?;
        // Seeds the section sets are checked at load; without it they are the file's list.
        plan.check_seeds().map_err(place)?;
        let opts = opts(PathBuf::new());
        if opts.shard.is_some() {
            return Err(Usage(
                "--shard does not apply to a tolerance search: each round depends on the last"
                    .into(),
            )
            .into());
        }
        let out = out_dir.unwrap_or_else(|| Path::new("runs").join(&exp.name));
        let how = crate::tolerance::Search {
            out: Some(out),
            fresh: opts.fresh,
            threads: opts.threads,
            command: format!("dyadsim run {}", path.display()),
        };
        return crate::tolerance::search(path, &exp, &plan, how, w);
    }
    let data = dataset::load(&exp.dataset, path)?;
    lab::job::check_shapes(&exp, &data, path)?;
    let out = out_dir.unwrap_or_else(|| Path::new("runs").join(&exp.name));
    writeln!(
        w,
        "{}: {}, {} ({} train / {} test), results in {}",
        exp.name,
        describe(&exp),
        data.name,
        data.train.len(),
        data.test.len(),
        out.display()
    )?;
    let grid = lab::runner::grid(&exp)?;
    let opts = opts(out.clone());
    let _lock = lab::lock::lock(&out, &format!("dyadsim run {}", path.display()))?;
    writeln!(
        w,
        "{} × {} = {}{}",
        count(grid.len(), "point"),
        count(exp.seeds.len(), "seed"),
        count(grid.len() * exp.seeds.len(), "run"),
        opts.shard
            .map(|s| format!(
                " (shard {}/{}: points ≡ {} mod {})",
                s.index, s.count, s.index, s.count
            ))
            .unwrap_or_default()
    )?;
    let started = Instant::now();
    let names = grid
        .iter()
        .map(|p| (p.index, lab::aggregate::short_params(&p.params)))
        .collect();
    let terminal = Terminal::new(Mutex::new(&mut *w), names, quiet);
    let records = run(&exp, &grid, &data, &opts, &terminal);
    terminal.finish();
    drop(terminal);
    let records = records?;
    report::draw(&out, &exp, &records).context("drawing figures")?;
    write!(w, "{}", final_table(&records))?;
    writeln!(
        w,
        "done in {:.1} s: {}/metrics.csv, summary.json and figures",
        started.elapsed().as_secs_f64(),
        out.display()
    )?;
    Ok(crate::SUCCESS)
}

/// One line per sweep point: its parameters, the final test accuracy and loss as mean ± standard
/// deviation over the seeds that did not diverge, and how many diverged.
fn final_table(records: &[lab::results::RunRecord]) -> String {
    let points = lab::aggregate::by_point(records);
    let rows: Vec<[String; 4]> = points
        .iter()
        .map(|p| {
            let stat = |name: &str, scale: f64, digits: usize| {
                let s = p.metrics[name];
                match (s.n, s.std) {
                    (0, _) => "–".to_owned(),
                    (_, Some(sd)) => {
                        format!("{:.digits$} ± {:.digits$}", scale * s.mean, scale * sd)
                    }
                    (_, None) => format!("{:.digits$}", scale * s.mean),
                }
            };
            let params = lab::aggregate::short_params(&p.params);
            [
                if params.is_empty() {
                    format!("point {}", p.point)
                } else {
                    params
                },
                format!("{}%", stat("test_acc", 100.0, 2)),
                stat("test_loss", 1.0, 4),
                format!("{}/{}", p.diverged, p.seeds),
            ]
        })
        .collect();
    let header = [
        "point".to_owned(),
        "test accuracy".to_owned(),
        "test loss".to_owned(),
        "diverged".to_owned(),
    ];
    let widths: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &[String; 4]| {
        let mut text = format!("{:<w$}", r[0], w = widths[0]);
        for (cell, w) in r[1..].iter().zip(&widths[1..]) {
            let pad = w - cell.chars().count();
            text.push_str(&format!("  {}{cell}", " ".repeat(pad)));
        }
        text.push('\n');
        text
    };
    let seeds = points.iter().map(|p| p.seeds).max().unwrap_or(0);
    let mut text = format!("final metrics per point (mean ± std over up to {seeds} seeds):\n");
    text.push_str(&line(&header));
    for r in &rows {
        text.push_str(&line(r));
    }
    text
}

/// `1 run`, `8 runs`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// What a run trains, for its first line: the algorithm (or the algorithms its sweep names) on the
/// network, as blocks on the input image for a convolutional one.
fn describe(exp: &lab::Experiment) -> String {
    let labels = lab::labels::Labels::new(exp);
    let swept = |path: &str| exp.sweep.0.iter().find(|a| a.path == path);
    let algorithm = match swept("algorithm") {
        Some(axis) => axis
            .values
            .iter()
            .map(|v| labels.value("algorithm", v))
            .collect::<Vec<_>>()
            .join(", "),
        None => {
            let a = &exp.algorithm;
            let kind = labels.value(
                "algorithm.kind",
                &serde_json::to_value(a.kind).unwrap_or_default(),
            );
            format!("{kind} (α = {}, β = {}, K = {})", a.alpha, a.beta, a.passes)
        }
    };
    format!("{algorithm} on {}", describe_network(&exp.network))
}

/// `784-512-10` for a dense network; `28×28×1 → conv 32 3×3 + pool → … → 256 → 10` for blocks.
fn describe_network(n: &lab::spec::NetworkSpec) -> String {
    let Some((h, w, c)) = n.input.filter(|_| !n.blocks.is_empty()) else {
        return n
            .layers
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-");
    };
    let mut parts = vec![format!("{h}×{w}×{c}")];
    for b in &n.blocks {
        parts.push(match *b {
            lab::spec::BlockSpec::Dense(units) => units.to_string(),
            lab::spec::BlockSpec::Conv {
                channels,
                kernel,
                stride,
                pool,
            } => {
                let stride = if stride == 1 {
                    String::new()
                } else {
                    format!(" stride {stride}")
                };
                let pool = if pool { " + pool" } else { "" };
                format!("conv {channels} {kernel}×{kernel}{stride}{pool}")
            }
        });
    }
    parts.join(" → ")
}

fn run_gradcheck(args: &GradcheckArgs, w: &mut (dyn Write + Send)) -> Result<u8> {
    let report = match &args.experiment {
        Some(path) => {
            let overrides = lab::gradcheck::ExperimentOverrides {
                alpha: args.alpha,
                beta: args.beta,
                passes: args.passes,
                alpha_mix: args.alpha_mix,
                alpha_fb: args.alpha_fb,
                batch: args.batch,
                seed: args.seed,
                point: args.point.unwrap_or(0),
            };
            lab::gradcheck::gradcheck_experiment(path, &overrides)?
        }
        None => gradcheck(&random_network(args))?,
    };
    print_gradcheck(&report, args.json, w)?;
    Ok(crate::SUCCESS)
}

/// The options of a check on a seeded random dense network, defaults filled in.
fn random_network(args: &GradcheckArgs) -> GradcheckOptions {
    let defaults = GradcheckOptions::default();
    let algorithm = Algorithm {
        kind: match args.algorithm {
            AlgorithmArg::DpTop => AlgorithmKind::DpTop,
            AlgorithmArg::Dp => AlgorithmKind::Dp,
            AlgorithmArg::DampedDp => AlgorithmKind::DampedDp,
        },
        alpha: args.alpha.unwrap_or(defaults.algorithm.alpha),
        beta: args.beta.unwrap_or(defaults.algorithm.beta),
        passes: args.passes.unwrap_or(defaults.algorithm.passes),
        schedule: match args.schedule {
            ScheduleArg::Forward => Schedule::Forward,
            ScheduleArg::ForwardBackward => Schedule::ForwardBackward,
            ScheduleArg::Backward => Schedule::Backward,
            ScheduleArg::OddEven => Schedule::OddEven,
            ScheduleArg::EvenOdd => Schedule::EvenOdd,
            ScheduleArg::Rounds => Schedule::Rounds,
        },
        circuit: args.circuit.then_some(Circuit {
            tau: args.tau,
            dt: args.dt,
            tol: args.tol,
            t_max: args.t_max,
        }),
        alpha_mix: args.alpha_mix,
        alpha_fb: args.alpha_fb,
        output: match args.output {
            OutputArg::Explicit => OutputMode::Explicit,
            OutputArg::ExactMse => OutputMode::ExactMse,
        },
        ..Algorithm::default()
    };
    GradcheckOptions {
        algorithm,
        layers: args.layers.clone(),
        loss: match args.loss {
            LossArg::Ce => Loss::CrossEntropy,
            LossArg::Mse => Loss::Mse,
        },
        activation: match args.activation {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::HardSigmoid => Activation::HardSigmoid,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Identity => Activation::Identity,
        },
        weight_scale: args.weight_scale,
        batch: args.batch.unwrap_or(defaults.batch),
        seed: args.seed.unwrap_or(defaults.seed),
    }
}

/// The report as a table, or as one JSON object.
fn print_gradcheck(
    report: &lab::gradcheck::GradcheckReport,
    json: bool,
    w: &mut (dyn Write + Send),
) -> Result<()> {
    if json {
        writeln!(w, "{}", serde_json::to_string(&report)?)?;
    } else {
        if let Some(p) = &report.point {
            let params: Vec<String> = p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            writeln!(
                w,
                "point {} of {}: {}",
                p.index,
                p.of,
                if params.is_empty() {
                    "nothing swept, the file's values".to_owned()
                } else {
                    params.join(", ")
                }
            )?;
        }
        writeln!(w, "layer      cosine    rel_err       leak")?;
        for l in &report.layers {
            writeln!(
                w,
                "{:>5}  {:>10.6}  {:>9.3e}  {:>9.3e}",
                l.layer, l.cosine, l.rel_err, l.leak
            )?;
        }
        writeln!(
            w,
            "settling: {} after {} {}, residual {:.3e}{}{}",
            if report.diverged {
                "diverged"
            } else if report.converged {
                "converged"
            } else {
                "did not converge"
            },
            report.passes,
            // Only circuit mode reports a settling time.
            if report.time.is_some() {
                "Euler steps"
            } else {
                "passes"
            },
            report.residual,
            report
                .tolerance
                .map(|t| format!(" (tolerance {t:.3e})"))
                .unwrap_or_default(),
            report
                .time
                .map(|t| format!(", time {t:.3}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `dyadsim check`: pin a golden, or run the fidelity suite and print its table or JSON.
fn run_check(args: &crate::cli::CheckArgs, w: &mut (dyn Write + Send)) -> Result<u8> {
    use crate::cli::SuiteArg;
    use lab::check::{self, CheckOptions, Suite};
    if !(args.rtol.is_finite() && args.rtol >= 0.0) {
        return Err(
            LabError::option("rtol", lab::field::must_be("a number ≥ 0", args.rtol)).into(),
        );
    }
    if let Some(experiment) = &args.pin {
        let dir = args.golden.as_deref().unwrap_or(Path::new("goldens"));
        let pinned = check::golden::pin(experiment, dir, args.rtol, args.update, args.details)?;
        write!(w, "{pinned}")?;
        return Ok(crate::SUCCESS);
    }
    let suite = match args.suite {
        Some(SuiteArg::Gradient) => Suite::Gradient,
        Some(SuiteArg::Devices) => Suite::Devices,
        Some(SuiteArg::Dynamics) => Suite::Dynamics,
        Some(SuiteArg::Golden) => Suite::Golden,
        Some(SuiteArg::Bits) => Suite::Bits,
        Some(SuiteArg::All) => Suite::All,
        None if args.golden.is_some() => Suite::Golden,
        None => Suite::All,
    };
    let opts = CheckOptions {
        suite,
        hardware: args.hardware.clone(),
        golden: args.golden.clone(),
        rtol: args.rtol,
        max_sigma: args.max_sigma,
        final_only: args.final_only,
        // JSON lists everything; the table its first detail rows unless asked.
        details: args.details || args.json,
        allow_missing_source: args.allow_missing_source,
        update: args.update,
        root: std::env::current_dir()
            .ok()
            .and_then(|d| check::find_root(&d)),
    };
    let report = check::run(&opts)?;
    if args.json {
        writeln!(w, "{}", serde_json::to_string(&report)?)?;
    } else {
        write!(w, "{}", report.table())?;
    }
    Ok(if report.passed() {
        crate::SUCCESS
    } else {
        crate::FAILURE
    })
}

/// `dyadsim bench`: run the standard workloads, print the table row by row (or one JSON object);
/// exit 1 if the sweep's records differed across thread counts.
fn run_bench(
    json: bool,
    quick: bool,
    threads: Option<usize>,
    only: Vec<String>,
    w: &mut (dyn Write + Send),
) -> Result<u8> {
    let opts = lab::bench::BenchOptions {
        quick,
        threads,
        only,
    };
    if !json {
        write!(w, "{}", lab::bench::header())?;
    }
    let report = lab::bench::run(&opts, &mut |r| {
        if !json {
            // A row that cannot be printed is lost; the run goes on and the error shows at the end.
            let _ = write!(w, "{}", lab::bench::row(r));
        }
    })?;
    if json {
        writeln!(w, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(
            w,
            "{} threads, network {:?}, batch {}{}",
            report.threads,
            report.network,
            report.batch,
            if report.quick {
                " (quick: numbers not comparable)"
            } else {
                ""
            }
        )?;
    }
    let identical = report
        .workloads
        .iter()
        .all(|r| r.bit_identical != Some(false));
    if !identical {
        writeln!(
            w,
            "sweep-scaling: records differ between 1 and {} threads",
            report.threads
        )?;
    }
    Ok(if identical {
        crate::SUCCESS
    } else {
        crate::FAILURE
    })
}
