//! TLS material for `--cert-file`, `--key-file` and `--ca-file`: loaded and checked before any
//! request, so a wrong path or a non-PEM file is a clear error rather than a handshake failure.

use std::path::{Path, PathBuf};

/// What the user gave on the command line (or in `ETCDCTL_*_FILE`).
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// Client certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Extra root certificates (PEM bundle).
    pub ca: Option<PathBuf>,
}

/// The loaded material, ready for reqwest's client builder.
#[derive(Default)]
pub struct TlsMaterial {
    /// The client identity (certificate chain and key), when both files were given.
    pub identity: Option<reqwest::Identity>,
    /// Root certificates trusted on top of the built-in ones.
    pub roots: Vec<reqwest::Certificate>,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

/// Counts PEM sections of a given label, so files that hold no certificate or key at all
/// are refused up front (reqwest would accept them and fail at the first handshake).
fn count_pem(pem: &[u8], label_contains: &str) -> usize {
    String::from_utf8_lossy(pem)
        .lines()
        .filter(|l| l.starts_with("-----BEGIN ") && l.contains(label_contains))
        .count()
}

impl TlsFiles {
    /// Loads and checks the files. A certificate without a key (or the reverse) is an error.
    pub fn load(&self) -> Result<TlsMaterial, String> {
        let mut out = TlsMaterial::default();
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let cert_pem = read(cert, "certificate")?;
                let key_pem = read(key, "key")?;
                if count_pem(&cert_pem, "CERTIFICATE") == 0 {
                    return Err(format!("no PEM certificate in {}", cert.display()));
                }
                if count_pem(&key_pem, "PRIVATE KEY") == 0 {
                    return Err(format!("no PEM private key in {}", key.display()));
                }
                // reqwest wants key and chain in one PEM buffer.
                let mut both = key_pem;
                both.push(b'\n');
                both.extend_from_slice(&cert_pem);
                let id = reqwest::Identity::from_pem(&both).map_err(|e| {
                    format!(
                        "cannot use {} and {} as a client identity: {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
                out.identity = Some(id);
            }
            (Some(_), None) => return Err("--cert-file needs --key-file".into()),
            (None, Some(_)) => return Err("--key-file needs --cert-file".into()),
            (None, None) => {}
        }
        if let Some(ca) = &self.ca {
            let pem = read(ca, "CA file")?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("cannot read CA certificates from {}: {e}", ca.display()))?;
            if roots.is_empty() {
                return Err(format!("no PEM certificate in {}", ca.display()));
            }
            out.roots = roots;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A self-signed certificate and key made by the `openssl` tool, or `None` without it.
    fn self_signed(dir: &Path) -> Option<(PathBuf, PathBuf)> {
        let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj"])
            .args(["/CN=etcdctl-test", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("skipping: openssl is not installed");
        }
        ok.then_some((cert, key))
    }

    #[test]
    fn nothing_given_loads_nothing() {
        let m = TlsFiles::default().load().expect("no files is fine");
        assert!(m.identity.is_none() && m.roots.is_empty());
    }

    #[test]
    fn missing_and_garbage_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "not pem").expect("write");
        let missing = dir.path().join("missing.pem");
        let e = TlsFiles {
            ca: Some(missing),
            ..TlsFiles::default()
        }
        .load()
        .err()
        .expect("missing CA fails");
        assert!(e.contains("cannot read CA file"), "{e}");
        let e = TlsFiles {
            ca: Some(junk.clone()),
            ..TlsFiles::default()
        }
        .load()
        .err()
        .expect("junk CA fails");
        assert!(e.contains("no PEM certificate"), "{e}");
        let e = TlsFiles {
            cert: Some(junk.clone()),
            key: Some(junk.clone()),
            ..TlsFiles::default()
        }
        .load()
        .err()
        .expect("junk identity fails");
        assert!(e.contains("no PEM certificate"), "{e}");
        let e = TlsFiles {
            cert: Some(junk),
            ..TlsFiles::default()
        }
        .load()
        .err()
        .expect("cert without key fails");
        assert!(e.contains("--key-file"), "{e}");
    }

    #[test]
    fn a_real_certificate_and_key_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let Some((cert, key)) = self_signed(dir.path()) else {
            return;
        };
        let m = TlsFiles {
            cert: Some(cert.clone()),
            key: Some(key),
            ca: Some(cert),
        }
        .load()
        .expect("a self-signed pair loads");
        assert!(m.identity.is_some());
        assert_eq!(m.roots.len(), 1);
        let mut b = reqwest::blocking::Client::builder().use_rustls_tls();
        for r in m.roots {
            b = b.add_root_certificate(r);
        }
        b.identity(m.identity.expect("identity"))
            .build()
            .expect("reqwest accepts the material");
    }
}
