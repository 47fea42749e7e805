//! Key paths: Go's `path.Clean("/" + raw)` and segment-wise ancestry.

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
