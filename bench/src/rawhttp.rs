//! A lean HTTP/1.1 keep-alive client for the load benchmarks over plain HTTP: on a 2-core
//! machine a general client's per-request work (URL parsing, header maps, allocations) takes
//! a core of its own at 20,000 requests/s, and the load generator would be what the figure
//! measured (it took 0.5 to 0.8 of a core during 64-connection writes with ureq). This one
//! writes a prepared request and reads the answer by its `Content-Length`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One keep-alive connection to `127.0.0.1:<port>`.
pub struct RawHttp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    request: Vec<u8>,
    body: Vec<u8>,
}

impl RawHttp {
    /// Connects to `127.0.0.1:port`.
    pub fn connect(port: u16) -> Result<RawHttp, String> {
        let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let writer = s.try_clone().map_err(|e| format!("clone: {e}"))?;
        Ok(RawHttp {
            reader: BufReader::with_capacity(16 * 1024, s),
            writer,
            request: Vec::with_capacity(1024),
            body: Vec::with_capacity(1024),
        })
    }

    /// GETs `path` (with its query); returns the status. The body is kept for [`Self::body`].
    pub fn get(&mut self, path: &str) -> Result<u16, String> {
        self.request.clear();
        write!(
            self.request,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .expect("writing into memory");
        self.exchange(path)
    }

    /// PUTs a form `body` (`value=...`) to `path`, with an `Authorization` header when given;
    /// returns the status.
    pub fn put_form(&mut self, path: &str, body: &str, auth: Option<&str>) -> Result<u16, String> {
        self.request.clear();
        write!(
            self.request,
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        )
        .expect("writing into memory");
        if let Some(a) = auth {
            write!(self.request, "Authorization: {a}\r\n").expect("writing into memory");
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body.as_bytes());
        self.exchange(path)
    }

    /// The body of the last answer.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sends the prepared request (one write) and reads the whole answer.
    fn exchange(&mut self, path: &str) -> Result<u16, String> {
        self.writer
            .write_all(&self.request)
            .map_err(|e| format!("send: {e}"))?;
        let mut line = String::new();
        self.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
                if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(format!(
                        "{path}: a chunked answer; this client reads lengths"
                    ));
                }
            }
        }
        let n = length.ok_or_else(|| format!("{path}: no Content-Length"))?;
        self.body.resize(n, 0);
        self.reader
            .read_exact(&mut self.body)
            .map_err(|e| format!("body: {e}"))?;
        Ok(status)
    }

    fn read_line(&mut self, line: &mut String) -> Result<(), String> {
        match self.reader.read_line(line) {
            Ok(0) => Err("connection closed".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("receive: {e}")),
        }
    }
}
