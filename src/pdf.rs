//! PDF documents read by poppler's programs (Debian's `poppler-utils`) in child processes:
//! the parser of a file someone else made runs outside the server's memory, under a time
//! limit and a memory limit (its address space, set by util-linux's `prlimit` when the
//! machine has it), with its output read only up to what is wanted, and no more of them at
//! once than there are cores. Used to compare bids' text (collusion) and to show documents page by
//! page in the evaluation room.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

/// How long one run may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The address space one run may take: poppler renders a page at 150 dpi in tens of
/// megabytes; a file made to exhaust memory stops at this, not at the machine's.
pub const MEMORY: u64 = 1 << 30;

/// Where `program` is on the `PATH`, if it is.
fn find(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// util-linux's `prlimit`, found once.
fn prlimit() -> Option<&'static Path> {
    static P: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    P.get_or_init(|| {
        let found = find("prlimit");
        if found.is_none() {
            tracing::warn!("prlimit is not available: PDF readers run without a memory limit (install util-linux)");
        }
        found
    })
    .as_deref()
}

fn permits() -> &'static Semaphore {
    static P: OnceLock<Semaphore> = OnceLock::new();
    P.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Whether a document is a PDF, by its media type or its name.
pub fn is_pdf(name: &str, media_type: &str) -> bool {
    media_type.split(';').next().map(str::trim) == Some("application/pdf")
        || name.to_ascii_lowercase().ends_with(".pdf")
}

/// Runs `program` with `args` and returns at most `max_bytes` of its output; `None` when it
/// cannot start, fails before writing, or takes longer than [`TIMEOUT`] or more memory than
/// [`MEMORY`].
pub async fn run(program: &str, args: &[&OsStr], max_bytes: usize) -> Result<Vec<u8>, RunError> {
    run_within(program, args, max_bytes, MEMORY).await
}

/// `run` with `memory` bytes of address space.
pub async fn run_within(
    program: &str,
    args: &[&OsStr],
    max_bytes: usize,
    memory: u64,
) -> Result<Vec<u8>, RunError> {
    let path = find(program).ok_or_else(|| RunError::Missing(format!("{program} not found")))?;
    let _permit = permits().acquire().await.map_err(|_| RunError::Failed)?;
    let mut command = match prlimit() {
        Some(prlimit) => {
            let mut c = tokio::process::Command::new(prlimit);
            c.arg(format!("--as={memory}")).arg("--").arg(&path);
            c
        }
        None => tokio::process::Command::new(&path),
    };
    let mut child = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RunError::Missing(e.to_string()))?;
    let mut out = child.stdout.take().ok_or(RunError::Failed)?;
    let read = async {
        let mut buf = Vec::new();
        let mut limited = (&mut out).take(max_bytes as u64);
        limited.read_to_end(&mut buf).await.ok()?;
        Some(buf)
    };
    let bytes = tokio::time::timeout(TIMEOUT, read).await.ok().flatten();
    // Whatever is left unread is not wanted: the child is stopped and reaped.
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
    match bytes {
        Some(b) if !b.is_empty() => Ok(b),
        _ => Err(RunError::Failed),
    }
}

/// Why a run gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program could not be started (not installed).
    Missing(String),
    /// Not a readable PDF, or too slow.
    Failed,
}

/// The number of pages of the PDF at `path`.
pub async fn page_count(path: &Path) -> Result<u32, RunError> {
    let out = run("pdfinfo", &[path.as_os_str()], 64 * 1024).await?;
    String::from_utf8_lossy(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").and_then(|n| n.trim().parse().ok()))
        .ok_or(RunError::Failed)
}

/// Page `page` (from 1) of the PDF at `path` as a PNG at `dpi`, at most 20 MB.
pub async fn render_page(path: &Path, page: u32, dpi: u32) -> Result<Vec<u8>, RunError> {
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let args: [&OsStr; 10] = [
        "-q".as_ref(),
        "-f".as_ref(),
        page.as_ref(),
        "-l".as_ref(),
        page.as_ref(),
        "-r".as_ref(),
        dpi.as_ref(),
        "-png".as_ref(),
        "-singlefile".as_ref(),
        path.as_os_str(),
    ];
    run("pdftoppm", &args, 20 << 20).await
}

/// The text of the PDF at `path` (UTF-8, its first `max_pages` pages in order, form feeds
/// between them), at most `max_bytes` of it.
pub async fn text(path: &Path, max_pages: u32, max_bytes: usize) -> Result<String, RunError> {
    let last = max_pages.to_string();
    let args: [&OsStr; 7] = [
        "-q".as_ref(),
        "-enc".as_ref(),
        "UTF-8".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        path.as_os_str(),
        "-".as_ref(),
    ];
    let out = run("pdftotext", &args, max_bytes).await?;
    // A cut inside the last character loses only that character.
    Ok(String::from_utf8_lossy(&out).into_owned())
}
