//! [`TlsError`]: every TLS misconfiguration, worded as one line naming the flag and the file
//! (`etcd` prints it and exits at start).

use super::FlagFile;

/// A TLS misconfiguration, worded as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate without its key.
    #[error("{cert} is given without {key_flag}: TLS needs the certificate and its key")]
    MissingKey {
        /// The certificate.
        cert: FlagFile,
        /// The flag that was left out.
        key_flag: &'static str,
    },
    /// A key without its certificate.
    #[error("{key} is given without {cert_flag}: TLS needs the certificate and its key")]
    MissingCert {
        /// The key.
        key: FlagFile,
        /// The flag that was left out.
        cert_flag: &'static str,
    },
    /// A CA without a certificate and key to serve with.
    #[error("{ca} is given without {cert_flag} and {key_flag}")]
    CaWithoutCert {
        /// The CA file.
        ca: FlagFile,
        /// The certificate flag that was left out.
        cert_flag: &'static str,
        /// The key flag that was left out.
        key_flag: &'static str,
    },
    /// The file cannot be read.
    #[error("cannot read {file}: {reason}")]
    Unreadable {
        /// The file.
        file: FlagFile,
        /// Why (the OS error, or "larger than ...").
        reason: String,
    },
    /// The file is not valid PEM.
    #[error("{file} is not valid PEM: {reason}")]
    MalformedPem {
        /// The file.
        file: FlagFile,
        /// What the PEM parser said.
        reason: String,
    },
    /// No `CERTIFICATE` block in a certificate or CA file.
    #[error("{file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate {
        /// The file.
        file: FlagFile,
    },
    /// No private key block in the key file.
    #[error("{file} holds no PEM private key (PKCS#8, RSA or EC)")]
    NoKey {
        /// The file.
        file: FlagFile,
    },
    /// A `CERTIFICATE` block that is not a parseable X.509 certificate.
    #[error("{file} is not a valid X.509 certificate: {reason}")]
    BadCertificate {
        /// The file.
        file: FlagFile,
        /// What the parser said.
        reason: String,
    },
    /// The certificate's validity ended.
    #[error("{file}: certificate expired on {not_after}")]
    Expired {
        /// The file.
        file: FlagFile,
        /// The end of its validity, UTC.
        not_after: String,
    },
    /// The certificate's validity has not begun.
    #[error("{file}: certificate is not valid before {not_before}")]
    NotYetValid {
        /// The file.
        file: FlagFile,
        /// The start of its validity, UTC.
        not_before: String,
    },
    /// A key rustls cannot use (unsupported algorithm or corrupt).
    #[error("{file}: unusable private key: {reason}")]
    BadKey {
        /// The file.
        file: FlagFile,
        /// What rustls said.
        reason: String,
    },
    /// The key is not the one the certificate was issued for.
    #[error("{key} does not match {cert}")]
    KeyMismatch {
        /// The certificate.
        cert: FlagFile,
        /// The key.
        key: FlagFile,
    },
    /// A CA certificate that cannot be a trust anchor.
    #[error("{file}: unusable CA certificate: {reason}")]
    BadCa {
        /// The CA file.
        file: FlagFile,
        /// What rustls said.
        reason: String,
    },
    /// rustls refused the assembled configuration.
    #[error("TLS configuration rejected: {0}")]
    Config(String),
}
