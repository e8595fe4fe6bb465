//! Random secrets, and files written whole or not at all (temporary file,
//! fsync, rename, directory fsync) with the mode they need.

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(buf)
}

/// A broker password: 24 random bytes, base64url (32 characters).
pub fn new_password() -> std::io::Result<String> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(24)?))
}

/// Writes `bytes` to `path` atomically with permissions `mode` (the agents'
/// writer: temporary file, fsync, rename, directory fsync).
pub use keting_link::atomic_file::write as write_atomic;
