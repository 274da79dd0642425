//! The one place orgform writes files: exported manifests and schemas, plan files, reports
//! and lock files; and reads back a file of its own it finds at such a path ([`read_regular`]).
//!
//! A path orgform writes to may hold a symlink someone planted (to `/etc/passwd`, or dangling
//! towards a file they want created), or a predictable temporary name may be taken first. So:
//! - a regular file is written to a new temporary file with an unpredictable name in the
//!   target's directory (created exclusively, never following a link), synced, and renamed over
//!   the target; a rename replaces a link, never its target;
//! - a symlink at the target, a directory, a block device or a socket is refused, with one
//!   exception: a character device or a pipe (`/dev/stdout`, `/dev/null`, a terminal), also when
//!   reached through links, is written to directly, as is `-` (standard output);
//! - under a root orgform was given (`export --out DIR`), every directory between the root and
//!   the file is created by orgform or must be a real directory: a symlink there is refused.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{} is a symbolic link; orgform does not write through links (name the file itself, or `-` for standard output)",
        .0.display()
    )]
    Symlink(PathBuf),
    #[error(
        "{path} is {1}, not a regular file; orgform writes only regular files, character devices and pipes",
        path = .0.display()
    )]
    NotRegular(PathBuf, &'static str),
    #[error(
        "{} resolves to a regular file through a link; orgform does not write through links (use `-` for standard output)",
        .0.display()
    )]
    LinkToFile(PathBuf),
    #[error("cannot write {path}: {1}", path = .0.display())]
    Io(PathBuf, std::io::Error),
}

/// What is at a path, without following a link there.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let file_type = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_fifo() {
            return "a pipe";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "something other than a file"
    }
}

/// Writes `bytes` to `path` as described above; `-` is standard output.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_with(path, |out| out.write_all(bytes))
}

/// Writes what `fill` produces to `path` (streamed, for plans of hundreds of megabytes).
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let io = |e| WriteError::Io(path.to_owned(), e);
    if path == Path::new("-") {
        let mut buffer = Vec::new();
        fill(&mut buffer).map_err(io)?;
        crate::output::write_stdout(&buffer, "the file for `-`");
        return Ok(());
    }
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(path, fill),
        Err(e) => Err(io(e)),
        Ok(meta) if meta.is_file() => replace(path, fill),
        Ok(meta) if meta.file_type().is_symlink() => match std::fs::metadata(path) {
            Ok(target) if streamable(&target) => write_directly(path, fill),
            Ok(target) if target.is_file() => Err(WriteError::LinkToFile(path.to_owned())),
            _ => Err(WriteError::Symlink(path.to_owned())),
        },
        Ok(meta) if streamable(&meta) => write_directly(path, fill),
        Ok(meta) => Err(WriteError::NotRegular(path.to_owned(), kind_of(&meta))),
    }
}

/// Character devices and pipes take a stream; nothing is replaced by writing to them.
fn streamable(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_char_device() || meta.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

fn write_directly(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let io = |e| WriteError::Io(path.to_owned(), e);
    // Neither created nor truncated: it is a device or a pipe.
    let file = OpenOptions::new().write(true).open(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    fill(&mut out).map_err(io)?;
    out.flush().map_err(io)
}

/// A new temporary file beside `path`, filled, synced and renamed over `path`.
fn replace(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let io = |e| WriteError::Io(path.to_owned(), e);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temporary = tempfile::Builder::new()
        .prefix(".orgform-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    {
        let mut out = std::io::BufWriter::new(temporary.as_file());
        fill(&mut out).map_err(io)?;
        out.flush().map_err(io)?;
    }
    temporary.as_file().sync_all().map_err(io)?;
    temporary.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// `root/relative`, with every directory between them created or checked to be a real
/// directory (not a link): nothing written there can land outside `root`. `relative` must
/// stay below `root` (no `..`, not absolute).
pub fn under(root: &Path, relative: &Path) -> Result<PathBuf, WriteError> {
    let mut path = root.to_owned();
    let components: Vec<Component> = relative.components().collect();
    for (index, component) in components.iter().enumerate() {
        let Component::Normal(part) = component else {
            return Err(WriteError::NotRegular(
                root.join(relative),
                "a path that leaves its directory",
            ));
        };
        path.push(part);
        if index + 1 == components.len() {
            break;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.file_type().is_symlink() => return Err(WriteError::Symlink(path)),
            Ok(meta) => return Err(WriteError::NotRegular(path, kind_of(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&path) {
                    Ok(()) => {}
                    // Another process (a second apply) made it meanwhile: it must still be a
                    // real directory.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                            return Err(WriteError::Io(path, e));
                        }
                    }
                    Err(e) => return Err(WriteError::Io(path, e)),
                }
            }
            Err(e) => return Err(WriteError::Io(path, e)),
        }
    }
    Ok(path)
}

/// The text of the regular file at `path`, if it is one of at most `max_bytes`: opened without
/// following a link or waiting on a pipe, and checked on the open file, so that what is read is
/// what was checked (a link or a pipe swapped in meanwhile is not followed). `None` for anything
/// else, missing or unreadable.
pub fn read_regular(path: &Path, max_bytes: u64) -> Option<String> {
    use std::io::Read;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        options.custom_flags(flags.bits() as i32);
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max_bytes {
        return None;
    }
    let mut text = String::new();
    file.take(max_bytes).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Opens (creating) a lock file for reading and writing, never through a link and never
/// truncating it: the caller writes only once it holds the lock.
pub fn open_lock_file(path: &Path) -> Result<File, WriteError> {
    let io = |e| WriteError::Io(path.to_owned(), e);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // ELOOP: the last component is a link.
        Err(_) if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            return Err(WriteError::Symlink(path.to_owned()));
        }
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(WriteError::NotRegular(path.to_owned(), kind_of(&meta)));
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_a_small_regular_file_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("record.json");
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(read_regular(&file, 10).as_deref(), Some("{}"));
        assert_eq!(read_regular(&file, 1), None, "too large");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_regular(&link, 10), None, "a link is not followed");
        assert_eq!(read_regular(dir.path(), 10), None, "a directory");
        assert_eq!(read_regular(&dir.path().join("missing"), 10), None);
        // A pipe nobody writes to is refused at once, not waited on.
        let pipe = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&pipe)
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(read_regular(&pipe, 10), None);
    }

    #[test]
    fn links_are_refused_and_regular_files_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(matches!(write(&link, b"x"), Err(WriteError::LinkToFile(_))));
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(outside.path().join("new"), &dangling).unwrap();
        assert!(matches!(
            write(&dangling, b"x"),
            Err(WriteError::Symlink(_))
        ));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!outside.path().join("new").exists());

        let file = dir.path().join("plain.json");
        write(&file, b"one").unwrap();
        write(&file, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        assert!(write(dir.path(), b"x").is_err(), "a directory");
        write(Path::new("/dev/null"), b"into the void").unwrap();
        // Only the two links and the file: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn a_linked_lock_file_is_refused_and_its_target_kept() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let lock = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        assert!(matches!(open_lock_file(&lock), Err(WriteError::Symlink(_))));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(open_lock_file(&dir.path().join("y.lock")).is_ok());
    }

    #[test]
    fn under_a_root_no_directory_may_be_a_link() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join(".orgform")).unwrap();
        assert!(matches!(
            under(root.path(), Path::new(".orgform/schemas/a.json")),
            Err(WriteError::Symlink(_))
        ));
        assert!(under(root.path(), Path::new("../x")).is_err());
        let made = under(root.path(), Path::new("main/acme.yaml")).unwrap();
        assert!(root.path().join("main").is_dir());
        assert_eq!(made, root.path().join("main/acme.yaml"));
    }
}
