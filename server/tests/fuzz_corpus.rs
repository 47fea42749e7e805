//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`, seeds and every input cargo fuzz
//! kept, crashes it found included once fixed) through the same entry points the fuzz targets
//! call: in every test run, without a fuzzer.

use std::path::Path;

use etcd_server::fuzzing::TARGETS;

#[test]
fn every_corpus_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (run the seed writer)", dir.display()));
        let mut inputs = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&input));
            assert!(outcome.is_ok(), "{} panicked on {}", name, path.display());
            inputs += 1;
        }
        assert!(inputs > 0, "{name} has an empty corpus");
        replayed += inputs;
    }
    eprintln!("replayed {replayed} corpus inputs");
}
