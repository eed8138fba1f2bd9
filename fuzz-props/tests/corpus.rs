//! Replays every file of `fuzz/corpus/<target>/` (the seed corpus, kept in
//! git) and `fuzz/artifacts/<target>/` (inputs a fuzzer found failing,
//! kept once fixed) through the target's property check, so the checks run
//! on every `cargo test --workspace` and a fixed bug stays fixed.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

/// The files directly inside `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_artifact_file_passes_its_check() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut failures = Vec::new();
    for &(target, check) in fuzz_props::TARGETS {
        let corpus = files(&fuzz.join("corpus").join(target));
        // A target without seeds would be checked on nothing.
        assert!(
            corpus.len() >= 5,
            "fuzz/corpus/{target} has {} files; keep its seed corpus",
            corpus.len()
        );
        let artifacts = files(&fuzz.join("artifacts").join(target));
        for file in corpus.iter().chain(&artifacts) {
            let data = fs::read(file).expect("a readable corpus file");
            if panic::catch_unwind(|| check(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
        eprintln!(
            "{target}: {} corpus and {} artifact files replayed",
            corpus.len(),
            artifacts.len()
        );
    }
    assert!(failures.is_empty(), "failing inputs: {failures:#?}");
}
