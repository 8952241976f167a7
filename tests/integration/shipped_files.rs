//! Every shipped experiment file loads and validates.

use tests::root;

#[test]
fn every_experiment_file_loads() {
    let dir = root().join("experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            lab::load::experiment(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 1);
}
