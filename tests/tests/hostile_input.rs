//! Bytes a hostile or broken client sends: invalid UTF-8 in a body and in a path, escapes
//! that decode to invalid UTF-8, malformed escapes. Each gets etcd's JSON answer, and the
//! server goes on serving (issue 13, part 4).

use std::io::{Read, Write};
use std::net::TcpStream;

use etcd_integration::{get, request, EtcdProcess};

/// Sends `head` then `body` as one raw HTTP/1.1 request and returns the status and body.
fn raw(server: &EtcdProcess, head: &[u8], body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", server.client_port)).expect("connect");
    let mut req = head.to_vec();
    req.extend_from_slice(
        format!(
            "\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    req.extend_from_slice(body);
    s.write_all(&req).expect("send");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, body.trim().to_string())
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

#[test]
fn invalid_utf8_and_bad_escapes_get_json_errors_and_the_server_goes_on() {
    let s = EtcdProcess::start();

    // A form body that is not UTF-8: refused as a bad form, nothing stored.
    let (status, body) = raw(&s, b"PUT /v2/keys/a HTTP/1.1", b"value=\xff\xfe");
    assert_eq!(
        (status, json(&body)["errorCode"].as_u64()),
        (400, Some(210)),
        "{body}"
    );
    assert_eq!(get(&s.keys("/a")).unwrap().status, 404);

    // An escape that decodes to a byte that is not UTF-8 is stored as U+FFFD, which is what
    // etcd's answers show for it (Go's JSON encoder replaces invalid bytes the same way).
    let r = request("PUT", &s.keys("/b"), Some("value=%ff")).unwrap();
    assert_eq!(r.json()["node"]["value"], "\u{fffd}", "{}", r.body);

    // Malformed escapes, in the body and in the query: a bad form, with the escape named.
    for (url, body) in [
        (s.keys("/c"), Some("value=%zz")),
        (s.keys("/c"), Some("value=%")),
        (format!("{}?ttl=%g1", s.keys("/c")), Some("value=1")),
    ] {
        let r = request("PUT", &url, body).unwrap();
        assert_eq!(
            (r.status, r.json()["errorCode"].as_u64()),
            (400, Some(210)),
            "{}",
            r.body
        );
        assert!(r.json()["cause"]
            .as_str()
            .unwrap()
            .contains("invalid URL escape"));
    }
    assert_eq!(get(&s.keys("/c")).unwrap().status, 404);

    // A raw byte that is not ASCII in the request line is not HTTP: the HTTP layer (hyper)
    // answers 400 before any handler runs, and closes the connection. The same key sent
    // percent-escaped, as clients send it, is an ordinary key.
    let (status, _) = raw(&s, b"GET /v2/keys/g\xff HTTP/1.1", b"");
    assert_eq!(status, 400);
    let r = get(&s.keys("/g%ff")).unwrap();
    assert_eq!(
        (r.status, r.json()["errorCode"].as_u64()),
        (404, Some(100)),
        "{}",
        r.body
    );

    // The server is still fine.
    let r = request("PUT", &s.keys("/ok"), Some("value=1")).unwrap();
    assert!(r.is_written(), "{}", r.body);
}
