//! A `tolerance: (...)` section (the text after `tolerance:`) in a small experiment, through lab's
//! load entry (parse, finiteness, limits, every value the search starts from applied and
//! validated), then the results folder's round trip: the experiment a search stores in
//! experiment.ron loads again and resolves to the same search. The text also goes through the
//! parser of `--compare`/`--across` values. Any panic, abort or mismatch is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(section) = std::str::from_utf8(data) else {
        return;
    };
    let _ = lab::tolerance::Choice::parse(section);
    let text = format!(
        "Experiment(name: \"fuzz\", network: (layers: [64, 4, 10], loss: Mse),\n\
         algorithm: (kind: DpTop, alpha: 0.5, beta: 0.7, passes: 2),\n\
         training: (epochs: 1, batch_size: 64, learning_rate: 0.05),\n\
         seeds: [0, 1], sweep: {{\"algorithm.kind\": [\"Dp\", \"DpTop\"]}},\n\
         tolerance: {section})"
    );
    let path = Path::new("experiments/fuzz-tolerance.ron");
    let Ok(exp) = lab::load::experiment_from_str(&text, path) else {
        return;
    };
    // `tolerance: None` is a file without a search.
    let Some(spec) = exp.tolerance.as_ref() else {
        return;
    };
    let plan = lab::tolerance::Plan::resolve(&exp, spec).expect("resolved when it loaded");
    let stored = lab::tolerance::stored_experiment(&exp, &plan);
    let ron = lab::runner::resolved_ron(&stored).expect("a stored experiment encodes");
    let again = lab::load::experiment_from_str(&ron, path)
        .unwrap_or_else(|e| panic!("experiment.ron of a search does not load: {e}\n{ron}"));
    let spec = again.tolerance.as_ref().expect("experiment.ron keeps the section");
    let replanned = lab::tolerance::Plan::resolve(&again, spec).expect("resolves again");
    assert_eq!(replanned, plan, "experiment.ron of a search resolves to another search");
});
