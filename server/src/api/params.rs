//! Request parameters: Go-compatible query/form decoding and the validation of etcd's
//! `parseKeyRequest`, in its order, so every bad input gets etcd's error code and cause.

use common::{ErrorCode, EtcdError};

/// Largest request body accepted (etcd's default request limit is 1.5 MiB).
pub const MAX_BODY_BYTES: usize = 1536 * 1024;
/// Longest key accepted, in bytes after decoding.
pub const MAX_KEY_BYTES: usize = 8 * 1024;

/// Decoded `name=value` pairs in order of appearance (body pairs first for PUT/POST, so the
/// body wins, as in Go's `r.Form`).
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

fn bad_form(cause: String) -> EtcdError {
    EtcdError::new(ErrorCode::InvalidForm, cause, 0)
}

fn unhex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape is an error worded as Go
/// words it.
pub fn query_unescape(s: &str) -> Result<String, EtcdError> {
    percent_decode(s, true)
}

/// Go's `url.PathUnescape` (a `+` stays a `+`).
pub fn path_unescape(s: &str) -> Result<String, EtcdError> {
    percent_decode(s, false)
}

fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, EtcdError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(unhex);
                let lo = b.get(i + 2).copied().and_then(unhex);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        let esc = String::from_utf8_lossy(&b[i..end]);
                        return Err(bad_form(format!("invalid URL escape {esc:?}")));
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl Form {
    /// Appends the pairs of an urlencoded string.
    pub fn extend_from(&mut self, encoded: &str) -> Result<(), EtcdError> {
        for part in encoded.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            self.pairs.push((query_unescape(k)?, query_unescape(v)?));
        }
        Ok(())
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Go's `strconv.ParseBool` on the first value; absent is false.
    pub fn bool(&self, name: &str) -> Result<bool, EtcdError> {
        self.bool_with_cause(name, &format!("invalid value for {name:?}"))
    }

    fn bool_with_cause(&self, name: &str, cause: &str) -> Result<bool, EtcdError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => parse_bool(v)
                .ok_or_else(|| EtcdError::new(ErrorCode::InvalidField, cause.to_string(), 0)),
        }
    }

    /// A decimal u64; absent is 0.
    pub fn uint(&self, name: &str, code: ErrorCode) -> Result<u64, EtcdError> {
        match self.get(name) {
            None => Ok(0),
            Some(v) => parse_uint(v)
                .ok_or_else(|| EtcdError::new(code, format!("invalid value for {name:?}"), 0)),
        }
    }
}

/// `1 t T TRUE true True` / `0 f F FALSE false False`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse_uint(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Every parameter of a keys request, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyParams {
    pub prev_index: u64,
    pub wait_index: u64,
    pub recursive: bool,
    pub sorted: bool,
    pub wait: bool,
    pub dir: bool,
    pub quorum: bool,
    pub stream: bool,
    pub prev_value: Option<String>,
    pub no_value_on_success: bool,
    /// `None`: no TTL (absent or empty `ttl=`).
    pub ttl: Option<u64>,
    pub prev_exist: Option<bool>,
    pub refresh: bool,
    /// `value`, `""` when absent.
    pub value: String,
}

/// Validates the form as etcd's `parseKeyRequest` does, in the same order.
pub fn parse_key_params(form: &Form, method_is_get: bool) -> Result<KeyParams, EtcdError> {
    let prev_index = form.uint("prevIndex", ErrorCode::IndexNaN)?;
    let wait_index = form.uint("waitIndex", ErrorCode::IndexNaN)?;
    let recursive = form.bool("recursive")?;
    let sorted = form.bool("sorted")?;
    let wait = form.bool("wait")?;
    let dir = form.bool("dir")?;
    let quorum = form.bool("quorum")?;
    let stream = form.bool("stream")?;
    if wait && !method_is_get {
        return Err(EtcdError::new(
            ErrorCode::InvalidField,
            r#""wait" can only be used with GET requests"#,
            0,
        ));
    }
    let prev_value = form.get("prevValue").map(str::to_string);
    if prev_value.as_deref() == Some("") {
        return Err(EtcdError::new(
            ErrorCode::PrevValueRequired,
            r#""prevValue" cannot be empty"#,
            0,
        ));
    }
    let no_value_on_success = form.bool("noValueOnSuccess")?;
    let ttl =
        match form.get("ttl") {
            None | Some("") => None,
            Some(v) => Some(parse_uint(v).ok_or_else(|| {
                EtcdError::new(ErrorCode::TtlNaN, r#"invalid value for "ttl""#, 0)
            })?),
        };
    let prev_exist = if form.has("prevExist") {
        Some(form.bool_with_cause("prevExist", "invalid value for prevExist")?)
    } else {
        None
    };
    let value = form.get("value").unwrap_or("").to_string();
    let refresh = if form.has("refresh") {
        form.bool_with_cause("refresh", "invalid value for refresh")?
    } else {
        false
    };
    if refresh {
        if !value.is_empty() {
            return Err(EtcdError::new(
                ErrorCode::RefreshValue,
                "A value was provided on a refresh",
                0,
            ));
        }
        if ttl.is_none() {
            return Err(EtcdError::new(
                ErrorCode::RefreshTtlRequired,
                "No TTL value set",
                0,
            ));
        }
    }
    Ok(KeyParams {
        prev_index,
        wait_index,
        recursive,
        sorted,
        wait,
        dir,
        quorum,
        stream,
        prev_value,
        no_value_on_success,
        ttl,
        prev_exist,
        refresh,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(s: &str) -> Form {
        let mut f = Form::default();
        f.extend_from(s).unwrap();
        f
    }

    fn code(s: &str, get: bool) -> u32 {
        parse_key_params(&form(s), get).unwrap_err().code.code()
    }

    #[test]
    fn decoding_follows_go() {
        let f = form("value=a+b%26c&value=2&x");
        assert_eq!(f.get("value"), Some("a b&c"));
        assert_eq!(f.get("x"), Some(""));
        let mut bad = Form::default();
        let e = bad.extend_from("value=%zz").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidForm);
        assert_eq!(e.cause, r#"invalid URL escape "%zz""#);
        assert_eq!(path_unescape("a+b%20c").unwrap(), "a+b c");
    }

    #[test]
    fn validation_codes_match_etcd() {
        assert_eq!(code("ttl=abc", false), 202);
        assert_eq!(code("ttl=-1", false), 202);
        assert_eq!(code("ttl=1.5", false), 202);
        assert_eq!(code("prevIndex=abc", false), 203);
        assert_eq!(code("waitIndex=abc", true), 203);
        assert_eq!(code("wait=yes", true), 209);
        assert_eq!(code("wait=true", false), 209);
        assert_eq!(code("recursive=yes", true), 209);
        assert_eq!(code("prevValue=", false), 201);
        assert_eq!(code("prevExist=maybe", false), 209);
        assert_eq!(code("refresh=true&value=x&ttl=5", false), 211);
        assert_eq!(code("refresh=true", false), 212);
        let e = parse_key_params(&form("prevExist=maybe"), false).unwrap_err();
        assert_eq!(e.cause, "invalid value for prevExist");
        let e = parse_key_params(&form("recursive=yes"), true).unwrap_err();
        assert_eq!(e.cause, r#"invalid value for "recursive""#);
    }

    #[test]
    fn accepted_forms() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(
                parse_key_params(&form(&format!("recursive={t}")), true)
                    .unwrap()
                    .recursive
            );
        }
        let p = parse_key_params(&form("ttl=&prevExist=true&value=v"), false).unwrap();
        assert_eq!(p.ttl, None);
        assert_eq!(p.prev_exist, Some(true));
        assert_eq!(p.value, "v");
        let p = parse_key_params(&form("refresh=true&ttl=5"), false).unwrap();
        assert!(p.refresh);
        assert_eq!(p.ttl, Some(5));
    }
}
