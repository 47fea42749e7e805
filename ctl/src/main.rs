//! `etcdctl`: the command-line client (skeleton; the commands come with issue #6).

fn main() {
    eprintln!("etcdctl: not built yet");
    std::process::exit(1);
}
