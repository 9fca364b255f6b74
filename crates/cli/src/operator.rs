//! The operator key: what seals the private keys in every data directory at rest.
//!
//! It is kept apart from the data it protects: `JINGUAN_OPERATOR_KEY_FILE` names its file,
//! or else it is `$XDG_CONFIG_HOME/jinguan/operator.key` (`~/.config/jinguan/operator.key`),
//! made on first use, readable by its owner alone. A copy of a data directory, its backup or
//! its disk holds sealed keys only; without the operator key they open for nobody.

use std::path::PathBuf;

use jinguan_crypto::sealed::OperatorKey;

use crate::Failure;

/// Where the operator key is.
fn location() -> Result<PathBuf, Failure> {
    if let Some(path) = std::env::var_os("JINGUAN_OPERATOR_KEY_FILE") {
        return Ok(PathBuf::from(path));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .ok_or_else(|| {
            Failure::new(
                "E0409",
                "no operator key: set JINGUAN_OPERATOR_KEY_FILE (or HOME)",
            )
        })?;
    Ok(config.join("jinguan").join("operator.key"))
}

/// The operator key, made on first use.
pub(crate) fn key() -> Result<OperatorKey, Failure> {
    let path = location()?;
    let failed =
        |e: std::io::Error| Failure::new("E0409", format!("operator key {}: {e}", path.display()));
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        // Written beside it and linked into place: two processes starting at once both
        // end up with the one key that got there first, never with a torn file.
        let made = OperatorKey::generate();
        let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
        write_private(&temporary, &(made.to_hex() + "\n")).map_err(failed)?;
        match std::fs::hard_link(&temporary, &path) {
            Ok(()) => eprintln!(
                "created the operator key {} (back it up, apart from the data: without it the \
                 keys in data directories cannot be opened)",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(failed(e)),
        }
        let _ = std::fs::remove_file(&temporary);
    }
    let text = std::fs::read_to_string(&path).map_err(failed)?;
    OperatorKey::from_hex(&text)
        .map_err(|e| Failure::new("E0409", format!("operator key {}: {e}", path.display())))
}

/// Writes a file only its owner may read, synced.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
