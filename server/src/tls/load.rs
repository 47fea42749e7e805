//! TLS files into rustls types: PEM read with a bound, the leaf certificate checked for
//! validity and against its key, CA files into trust stores.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;

use super::{FlagFile, Side, TlsError, MAX_PEM_FILE};
use crate::config::TlsFiles;

/// The crypto provider every config here uses: explicit, so that no process-wide default (or
/// a second provider pulled in by another crate) decides.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM file, bounded by [`MAX_PEM_FILE`].
fn read_pem(file: &FlagFile) -> Result<Vec<u8>, TlsError> {
    use std::io::Read;
    let unreadable = |reason: String| TlsError::Unreadable {
        file: file.clone(),
        reason,
    };
    let f = std::fs::File::open(&file.path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    f.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(unreadable(format!("larger than {MAX_PEM_FILE} bytes")));
    }
    Ok(bytes)
}

/// Every `CERTIFICATE` block of a file, in order; at least one.
fn read_certs(file: &FlagFile) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_pem(file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::MalformedPem {
            file: file.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { file: file.clone() });
    }
    Ok(certs)
}

/// The first private key of a file.
pub(super) fn read_key(file: &FlagFile) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_pem(file)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey { file: file.clone() },
        e => TlsError::MalformedPem {
            file: file.clone(),
            reason: e.to_string(),
        },
    })
}

/// `2001-01-01 00:00:00 UTC` from Unix seconds.
fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{secs} (Unix time)"))
}

/// What we log about a certificate: never key material, only who it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject, as `O=..., CN=...`.
    pub subject: String,
    /// The serial number in hex.
    pub serial: String,
    /// End of validity, UTC.
    pub not_after: String,
}

/// Parses the end-entity certificate and checks that `now` lies in its validity.
fn check_validity(
    der: &CertificateDer<'_>,
    file: &FlagFile,
    now: SystemTime,
) -> Result<CertSummary, TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| {
        TlsError::BadCertificate {
            file: file.clone(),
            reason: e.to_string(),
        }
    })?;
    // A clock before 1970 is not a state to refuse service over; treat it as the epoch.
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(TlsError::NotYetValid {
            file: file.clone(),
            not_before: utc(validity.not_before.timestamp()),
        });
    }
    if now > validity.not_after.timestamp() {
        return Err(TlsError::Expired {
            file: file.clone(),
            not_after: utc(validity.not_after.timestamp()),
        });
    }
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        serial: cert.raw_serial_as_string(),
        not_after: utc(validity.not_after.timestamp()),
    })
}

/// Loads a certificate chain and its key, checking that the leaf is valid at `now` and that
/// the key is the one the leaf certifies.
pub fn load_certified_key(
    cert: &FlagFile,
    key: &FlagFile,
    now: SystemTime,
) -> Result<(CertifiedKey, CertSummary), TlsError> {
    let chain = read_certs(cert)?;
    let summary = check_validity(&chain[0], cert, now)?;
    let key_der = read_key(key)?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| TlsError::BadKey {
            file: key.clone(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // `Unknown`: the key type cannot report its public half; the handshake will tell.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok((certified, summary))
        }
        Err(_) => Err(TlsError::KeyMismatch {
            cert: cert.clone(),
            key: key.clone(),
        }),
    }
}

/// The certificate and key flags of `files`, both required.
pub(super) fn cert_and_key(files: &TlsFiles, side: Side) -> Result<(FlagFile, FlagFile), TlsError> {
    match (&files.cert, &files.key) {
        (Some(c), Some(k)) => Ok((
            FlagFile::new(side.cert_flag(), c),
            FlagFile::new(side.key_flag(), k),
        )),
        (Some(c), None) => Err(TlsError::MissingKey {
            cert: FlagFile::new(side.cert_flag(), c),
            key_flag: side.key_flag(),
        }),
        (None, Some(k)) => Err(TlsError::MissingCert {
            key: FlagFile::new(side.key_flag(), k),
            cert_flag: side.cert_flag(),
        }),
        (None, None) => match &files.ca {
            Some(ca) => Err(TlsError::CaWithoutCert {
                ca: FlagFile::new(side.ca_flag(), ca),
                cert_flag: side.cert_flag(),
                key_flag: side.key_flag(),
            }),
            None => Err(TlsError::Config("no TLS files given".into())),
        },
    }
}

/// A trust store holding every certificate of a CA file.
pub(super) fn load_roots(ca: &FlagFile) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for der in read_certs(ca)? {
        roots.add(der).map_err(|e| TlsError::BadCa {
            file: ca.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::tls::fixtures::{err, files, fixture};
    use crate::tls::ServerTls;

    #[test]
    fn certificate_without_key_and_key_without_certificate() {
        let e = err(files(Some("server.crt"), None, None));
        assert!(e.contains("given without -key-file"), "{e}");
        let e = err(files(None, Some("server.key.insecure"), None));
        assert!(e.contains("given without -cert-file"), "{e}");
        let e = err(files(None, None, Some("ca.crt")));
        assert!(e.contains("-ca-file"), "{e}");
        let e = match ServerTls::from_files(&files(Some("server.crt"), None, None), Side::Peer) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        };
        assert!(
            e.contains("-peer-cert-file") && e.contains("-peer-key-file"),
            "{e}"
        );
    }

    #[test]
    fn key_that_does_not_match() {
        let e = err(files(
            Some("server.crt"),
            Some("server2.key.insecure"),
            None,
        ));
        assert!(e.contains("does not match"), "{e}");
    }

    #[test]
    fn unreadable_file() {
        let e = err(files(
            Some("missing.crt"),
            Some("server.key.insecure"),
            None,
        ));
        assert!(e.starts_with("cannot read -cert-file"), "{e}");
        let e = err(files(Some("server.crt"), Some("missing.key"), None));
        assert!(e.starts_with("cannot read -key-file"), "{e}");
    }

    #[test]
    fn malformed_pem_and_non_certificates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = dir.path().join("broken.crt");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let f = TlsFiles {
            cert: Some(broken.clone()),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("is not valid PEM"));

        let garbage = dir.path().join("garbage.crt");
        std::fs::write(&garbage, "hello\n").expect("write");
        let f = TlsFiles {
            cert: Some(garbage.clone()),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("holds no PEM certificate"));

        // Valid base64 that is not DER.
        let notder = dir.path().join("notder.crt");
        std::fs::write(
            &notder,
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let f = TlsFiles {
            cert: Some(notder),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("not a valid X.509 certificate"));

        // A certificate where the key should be.
        let f = files(Some("server.crt"), Some("server.crt"), None);
        assert!(err(f).contains("holds no PEM private key"));
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let e = err(files(
            Some("expired.crt"),
            Some("expired.key.insecure"),
            None,
        ));
        assert!(e.contains("expired on 2001-01-01 00:00:00 UTC"), "{e}");
        let e = err(files(Some("notyet.crt"), Some("notyet.key.insecure"), None));
        assert!(e.contains("not valid before 2090-01-01"), "{e}");
    }

    #[test]
    fn ca_file_without_certificate() {
        let e = err(files(
            Some("server.crt"),
            Some("server.key.insecure"),
            Some("ca.key"),
        ));
        assert!(
            e.contains("-ca-file") && e.contains("holds no PEM certificate"),
            "{e}"
        );
    }

    #[test]
    fn validity_uses_the_given_time() {
        let cert = FlagFile::new("-cert-file", &fixture("server.crt"));
        let key = FlagFile::new("-key-file", &fixture("server.key.insecure"));
        let far = UNIX_EPOCH + Duration::from_secs(200 * 365 * 86_400);
        assert!(matches!(
            load_certified_key(&cert, &key, far),
            Err(TlsError::Expired { .. })
        ));
        assert!(load_certified_key(&cert, &key, SystemTime::now()).is_ok());
    }
}
