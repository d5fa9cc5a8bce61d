//! A command's output on standard output, and the one write error that is not a failure: the
//! reader going away (`fedicensus parse ... | head`).

/// Standard output's reader went away (a closed pipe). Kept apart from other I/O errors, so that
/// only this one ends a command quietly: a broken pipe to a database is a failure.
#[derive(Debug)]
pub(crate) struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes a command's output to standard output and flushes it. Rust ignores SIGPIPE, so a reader
/// that stops early (`| head`) makes the write fail with `BrokenPipe`; that becomes
/// [`StdoutClosed`], which `main` turns into a quiet exit with status 0, as ripgrep and lychee do
/// (`println!` would panic with status 101).
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                anyhow::Error::new(StdoutClosed)
            } else {
                anyhow::Error::new(e).context("writing to standard output")
            }
        })
}
