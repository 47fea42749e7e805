//! Test helpers shared by the TLS modules' tests: the certificates under `fixtures/ca`.

use std::path::{Path, PathBuf};

use super::{ServerTls, Side};
use crate::config::TlsFiles;

pub(super) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/ca")
        .join(name)
}

pub(super) fn files(cert: Option<&str>, key: Option<&str>, ca: Option<&str>) -> TlsFiles {
    TlsFiles {
        cert: cert.map(fixture),
        key: key.map(fixture),
        ca: ca.map(fixture),
    }
}

pub(super) fn err(f: TlsFiles) -> String {
    match ServerTls::from_files(&f, Side::Client) {
        Ok(_) => panic!("{f:?} was accepted"),
        Err(e) => e.to_string(),
    }
}
