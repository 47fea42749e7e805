//! Key paths: [`KeyPath`], cleaned once where a key enters the server, Go's
//! `path.Clean("/" + raw)`, and segment-wise ancestry.

use serde::{Deserialize, Serialize};

/// A key as the store knows it: absolute and clean. A client's key is cleaned once, at the
/// edge ([`KeyPath::clean`]); the store, the log and the watchers take it as it is, so no key
/// is cleaned twice or not at all.
///
/// Deserialising takes the string verbatim: the log holds keys the API already cleaned, and
/// replaying an entry must apply exactly what it applied the first time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyPath(String);

impl KeyPath {
    /// A percent-decoded client key, cleaned (see [`clean`]).
    pub fn clean(raw: &str) -> KeyPath {
        KeyPath(clean(raw))
    }

    /// A key the server built itself from parts that need no cleaning (a member's
    /// `/_etcd/machines/<name>`, whose name holds no `/`), taken verbatim as every earlier
    /// version took it: cleaning it now could make this replica apply something else.
    pub fn verbatim(key: String) -> KeyPath {
        KeyPath(key)
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/name` for a name the store makes (a POST's in-order name).
    pub fn child(&self, name: &str) -> KeyPath {
        KeyPath(join(&self.0, name))
    }
}

impl std::ops::Deref for KeyPath {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Cleans: for tests and callers that build keys from literals.
impl From<&str> for KeyPath {
    fn from(raw: &str) -> KeyPath {
        KeyPath::clean(raw)
    }
}

/// Cleans, as `From<&str>`.
impl From<String> for KeyPath {
    fn from(raw: String) -> KeyPath {
        KeyPath::clean(&raw)
    }
}

/// Cleans a percent-decoded key as Go's `path.Clean("/" + raw)`: repeated slashes collapse,
/// a trailing slash goes, `.` vanishes and `..` removes the previous segment but never climbs
/// above `/`.
pub fn clean(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        "/".to_string()
    } else {
        let mut out = String::with_capacity(raw.len() + 1);
        for p in parts {
            out.push('/');
            out.push_str(p);
        }
        out
    }
}

/// Whether `key` lies strictly below `dir` (segment-wise: `/wdx` is not below `/wd`).
pub fn is_below(key: &str, dir: &str) -> bool {
    if dir == "/" {
        return key != "/";
    }
    key.len() > dir.len() && key.starts_with(dir) && key.as_bytes()[dir.len()] == b'/'
}

/// The segments of a clean key (`/` has none).
pub fn segments(key: &str) -> impl Iterator<Item = &str> {
    key.split('/').filter(|s| !s.is_empty())
}

/// The parent of a clean key, and the key's own name.
pub fn split_parent(key: &str) -> (&str, &str) {
    match key.rfind('/') {
        Some(0) => ("/", &key[1..]),
        Some(i) => (&key[..i], &key[i + 1..]),
        None => ("/", key),
    }
}

/// `parent` + `/` + `name`, without a double slash at the root.
pub fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// etcd 2.x `isHidden`: a change at `key` is hidden from a recursive watch on `watch` when a
/// segment below the watched path starts with `_`.
pub fn is_hidden_from(watch: &str, key: &str) -> bool {
    if watch.len() > key.len() {
        return false;
    }
    let after = clean(&key[watch.len()..]);
    after.contains("/_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean(""), "/");
        assert_eq!(clean("/"), "/");
        assert_eq!(clean("//"), "/");
        assert_eq!(clean("/a//b/"), "/a/b");
        assert_eq!(clean("/a/./x/../b"), "/a/b");
        assert_eq!(clean("/../../a"), "/a");
        assert_eq!(clean("a/b"), "/a/b");
        assert_eq!(clean("/sp ace"), "/sp ace");
    }

    #[test]
    fn key_paths_are_cleaned_when_made_and_kept_verbatim_from_the_log() {
        assert_eq!(KeyPath::clean("a//b/./c/../").as_str(), "/a/b");
        assert_eq!(
            KeyPath::from("/x/").child("00000000000000000001").as_str(),
            "/x/00000000000000000001"
        );
        assert_eq!(KeyPath::from("/").child("k").as_str(), "/k");
        let json = serde_json::to_string(&KeyPath::clean("/a b")).unwrap();
        assert_eq!(json, r#""/a b""#);
        let raw: KeyPath = serde_json::from_str(r#""/_etcd/machines/..""#).unwrap();
        assert_eq!(raw.as_str(), "/_etcd/machines/..");
    }

    #[test]
    fn ancestry_is_segment_wise() {
        assert!(is_below("/a/b", "/a"));
        assert!(!is_below("/ab", "/a"));
        assert!(!is_below("/a", "/a"));
        assert!(is_below("/a", "/"));
        assert!(!is_below("/", "/"));
        assert_eq!(split_parent("/a/b"), ("/a", "b"));
        assert_eq!(split_parent("/a"), ("/", "a"));
        assert_eq!(join("/", "a"), "/a");
        assert!(is_hidden_from("/", "/_x"));
        assert!(is_hidden_from("/a", "/a/_b/c"));
        assert!(!is_hidden_from("/_a", "/_a/b"));
    }
}
