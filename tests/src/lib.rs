//! Test harness for the integration tests (filled in with the server).
