//! A ZIP archive of stored (uncompressed) files, written whole in memory:
//! the container of an XLSX workbook. Stored entries need no compressor,
//! only each file's CRC-32; an export is a few kilobytes of XML.

/// The CRC-32 (IEEE 802.3, as ZIP uses it) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Why an archive could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// More than ZIP's 32-bit sizes or 65,535 entries allow.
    #[error("the archive is too large for a plain ZIP file")]
    TooLarge,
}

fn u16_of(n: usize) -> Result<u16, ZipError> {
    u16::try_from(n).map_err(|_| ZipError::TooLarge)
}

fn u32_of(n: usize) -> Result<u32, ZipError> {
    u32::try_from(n).map_err(|_| ZipError::TooLarge)
}

/// The archive of `files` (name, contents), in order. Every entry is dated
/// 1980-01-01 00:00 (ZIP's first day), so the same files make the same
/// bytes.
pub fn stored(files: &[(&str, &[u8])]) -> Result<Vec<u8>, ZipError> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = u32_of(out.len())?;
        let crc = crc32(data);
        let (size, name_len) = (u32_of(data.len())?, u16_of(name.len())?);
        // The local header: signature, version 2.0, flags (bit 11: UTF-8
        // names), method 0 (stored), time 00:00, date 1980-01-01.
        let common = |h: &mut Vec<u8>| {
            h.extend_from_slice(&0x0800u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&0x0021u16.to_le_bytes());
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&name_len.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Its central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        // Comment length, disk, internal and external attributes, offset.
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (at, count) = (u32_of(out.len())?, u16_of(files.len())?);
    let central_len = u32_of(central.len())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crc_is_zips_and_the_archive_lists_its_files() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        let zip = stored(&[("a.txt", b"hello"), ("目录/b.xml", b"<x/>")]).unwrap();
        assert!(zip.starts_with(b"PK\x03\x04"));
        // The end record says two entries and where the directory is.
        let end = &zip[zip.len() - 22..];
        assert!(end.starts_with(b"PK\x05\x06"));
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        let at = u32::from_le_bytes([end[16], end[17], end[18], end[19]]) as usize;
        assert!(zip[at..].starts_with(b"PK\x01\x02"));
        assert_eq!(
            zip,
            stored(&[("a.txt", b"hello"), ("目录/b.xml", b"<x/>")]).unwrap()
        );
    }
}
