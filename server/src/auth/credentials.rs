//! Passwords: hashed with bcrypt at etcd's cost (etcd's own choice, so a data dir's hashes
//! mean the same as etcd's, and the slowness that protects a stolen hash), read from HTTP Basic
//! credentials, and checked with a cache of credentials already verified.
//!
//! etcd 2.x ran bcrypt on every authenticated request, which took a GET from 0.6 ms to 140 ms
//! (etcd issue #3223). Here a verified (user, password) pair is remembered as the SHA-256 of
//! the password next to the hash it was verified against: a later request with the same
//! password costs one SHA-256, a changed password (a new hash) or a wrong one costs bcrypt
//! again, and a wrong one is never remembered, so guessing stays as slow as bcrypt makes it.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// bcrypt's cost factor, etcd's `bcrypt.DefaultCost`.
pub const COST: u32 = 10;

/// Most verified credentials remembered; past this the cache starts afresh.
const MAX_REMEMBERED: usize = 10_000;

/// A salted bcrypt hash of `password`.
pub fn hash_password(password: &str) -> String {
    bcrypt::hash(password, COST).expect("bcrypt hashes any password under 72 bytes")
}

/// The user and password of an `Authorization: Basic …` header, if it is one.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Credentials verified so far.
#[derive(Default)]
pub struct Verifier {
    verified: Mutex<HashMap<String, (String, [u8; 32])>>,
}

impl Verifier {
    /// Whether `password` is the one `hash` (user `name`'s stored hash) was made from. Runs
    /// bcrypt (tens of milliseconds) unless this pair was verified before: call it off the
    /// async threads.
    pub fn verify(&self, name: &str, hash: &str, password: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        if let Some((h, d)) = self.verified.lock().expect("verifier lock").get(name) {
            if h == hash && *d == digest {
                return true;
            }
        }
        if !bcrypt::verify(password, hash).unwrap_or(false) {
            return false;
        }
        let mut verified = self.verified.lock().expect("verifier lock");
        if verified.len() >= MAX_REMEMBERED {
            verified.clear();
        }
        verified.insert(name.to_string(), (hash.to_string(), digest));
        true
    }

    /// Whether `verify` would answer without bcrypt (for tests and metrics).
    pub fn remembers(&self, name: &str, hash: &str, password: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        self.verified
            .lock()
            .expect("verifier lock")
            .get(name)
            .is_some_and(|(h, d)| h == hash && *d == digest)
    }
}
