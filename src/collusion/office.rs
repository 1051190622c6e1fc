//! Office documents and archives in a bid's package, for R-COL-4 and R-COL-5 (pure, on a
//! file the opening decrypted): the text of a Word document (.docx, its
//! `word/document.xml` read with `quick-xml`) and of a spreadsheet (.xlsx, its shared
//! strings: every text cell), and the files inside a ZIP archive, each
//! by its SHA-256, so that one bidder's file inside another's archive is found as if it
//! had been sent bare. Everything read is bounded: a ZIP "bomb" stops at the limits, a
//! damaged file reads as nothing.

use std::io::{BufReader, Read};
use std::path::Path;

use quick_xml::events::Event;
use sha2::{Digest, Sha256};

/// Bytes of a document's XML read at most (decompressed).
const MAX_XML: u64 = 64 << 20;
/// Files of an archive looked into, and the bytes read of them all (decompressed).
const MAX_MEMBERS: usize = 1_000;
const MAX_ARCHIVE_BYTES: u64 = 512 << 20;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Whether a document is an Excel workbook (.xlsx), by its media type or its name.
pub fn is_xlsx(name: &str, media_type: &str) -> bool {
    media_type.split(';').next().map(str::trim) == Some(XLSX)
        || name.to_ascii_lowercase().ends_with(".xlsx")
}

/// The text of a .docx or .xlsx at `path`, as `is_docx`/`is_xlsx` tell by `name` and
/// `media_type`; `None` for anything else.
pub fn office_text(path: &Path, name: &str, media_type: &str, max_bytes: usize) -> Option<String> {
    if is_docx(name, media_type) {
        docx_text(path, max_bytes)
    } else if is_xlsx(name, media_type) {
        xlsx_text(path, max_bytes)
    } else {
        None
    }
}

/// The text cells of the .xlsx at `path` (its shared strings, a line each), at most
/// `max_bytes` of it; `None` when it is not one. Rich-text runs of a cell are joined;
/// phonetic guides (`<rPh>`) are not text.
pub fn xlsx_text(path: &Path, max_bytes: usize) -> Option<String> {
    member_text(path, "xl/sharedStrings.xml", "t", "si", &["rPh"], max_bytes)
}

/// Whether a document is a Word document (.docx), by its media type or its name.
pub fn is_docx(name: &str, media_type: &str) -> bool {
    media_type.split(';').next().map(str::trim) == Some(DOCX)
        || name.to_ascii_lowercase().ends_with(".docx")
}

/// Whether a document is a ZIP archive, by its media type or its name.
pub fn is_zip(name: &str, media_type: &str) -> bool {
    matches!(
        media_type.split(';').next().map(str::trim),
        Some("application/zip" | "application/x-zip-compressed")
    ) || name.to_ascii_lowercase().ends_with(".zip")
}

/// The text of the .docx at `path`, a line per paragraph, at most `max_bytes` of it;
/// `None` when it is not one.
pub fn docx_text(path: &Path, max_bytes: usize) -> Option<String> {
    // Text counts inside <w:t> only (not field codes, not deleted runs' <w:delText>).
    member_text(path, "word/document.xml", "w:t", "w:p", &[], max_bytes)
}

/// The text of the XML `member` of the ZIP at `path`: what is inside `text` elements
/// (not inside a `skip` element), a line per `line` element, at most `max_bytes`.
fn member_text(
    path: &Path,
    member: &str,
    text: &str,
    line: &str,
    skip: &[&str],
    max_bytes: usize,
) -> Option<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).ok()?).ok()?;
    let xml = archive.by_name(member).ok()?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(xml.take(MAX_XML)));
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_text = false;
    let mut skipping = 0usize;
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if skip.contains(&e.name().as_ref()) => skipping += 1,
            Event::Start(e) if e.name().as_ref() == text && skipping == 0 => in_text = true,
            Event::End(e) => match e.name().as_ref() {
                n if skip.contains(&n) => skipping = skipping.saturating_sub(1),
                n if n == text => in_text = false,
                n if n == line => out.push('\n'),
                _ => {}
            },
            Event::Empty(e) if matches!(e.name().as_ref(), "w:tab" | "w:br") => out.push(' '),
            Event::Text(t) if in_text => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                {
                    out.push_str(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() >= max_bytes {
            break;
        }
        buf.clear();
    }
    if out.len() > max_bytes {
        let mut cut = max_bytes;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    (!out.trim().is_empty()).then_some(out)
}

/// The files inside the ZIP archive at `path`: (SHA-256, `archive/inner name`) each, the
/// first `MAX_MEMBERS` within `MAX_ARCHIVE_BYTES` in all; nothing when it is not one.
pub fn archive_members(path: &Path, archive_name: &str) -> Vec<(String, String)> {
    let Some(mut archive) = std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut budget = MAX_ARCHIVE_BYTES;
    for i in 0..archive.len().min(MAX_MEMBERS) {
        let Ok(file) = archive.by_index(i) else {
            continue;
        };
        if file.is_dir() {
            continue;
        }
        let name = file.name().map(|n| n.into_owned()).unwrap_or_default();
        let mut hash = Sha256::new();
        let mut limited = file.take(budget);
        let Ok(n) = std::io::copy(&mut limited, &mut hash) else {
            continue;
        };
        budget = budget.saturating_sub(n);
        if budget == 0 {
            // Cut off: what was read is not the file's digest.
            break;
        }
        out.push((
            hex::encode(hash.finalize()),
            format!("{archive_name}/{name}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, bytes) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
        file
    }

    #[test]
    fn a_word_documents_text_is_its_paragraphs() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>第一条：按期</w:t></w:r><w:r><w:t xml:space="preserve">完成 &amp; 培训</w:t></w:r></w:p>
            <w:p><w:r><w:instrText>PAGE</w:instrText><w:t>第二条</w:t><w:tab/><w:t>&#36136;保</w:t></w:r></w:p>
            </w:body></w:document>"#;
        let f = zip_of(&[("word/document.xml", xml.as_bytes())]);
        assert_eq!(
            docx_text(f.path(), 1 << 20).as_deref(),
            Some("第一条：按期完成 & 培训\n第二条 质保\n")
        );
        assert_eq!(docx_text(f.path(), 9).as_deref(), Some("第一条"));
        let not = zip_of(&[("other.xml", b"<a/>")]);
        assert_eq!(docx_text(not.path(), 1 << 20), None);
    }

    #[test]
    fn an_archives_files_are_named_by_their_digests() {
        let f = zip_of(&[("方案/技术方案.txt", b"abc"), ("报价.txt", b"")]);
        let members = archive_members(f.path(), "投标文件.zip");
        assert_eq!(
            members,
            [
                (
                    crate::crypto::sha256_hex(b"abc"),
                    "投标文件.zip/方案/技术方案.txt".to_string()
                ),
                (
                    crate::crypto::sha256_hex(b""),
                    "投标文件.zip/报价.txt".to_string()
                ),
            ]
        );
        let text = tempfile::NamedTempFile::new().unwrap();
        assert!(archive_members(text.path(), "x.zip").is_empty());
        assert!(is_zip("a.ZIP", "") && is_docx("b.docx", "") && !is_docx("c.doc", ""));
    }

    #[test]
    fn a_spreadsheets_text_is_its_text_cells() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="x" count="3">
            <si><t>分项报价表</t></si>
            <si><r><t>交货期</t></r><r><t xml:space="preserve"> 30 天</t></r></si>
            <si><t>质保</t><rPh><t>しつ</t></rPh></si></sst>"#;
        let f = zip_of(&[("xl/sharedStrings.xml", xml.as_bytes())]);
        assert_eq!(
            xlsx_text(f.path(), 1 << 20).as_deref(),
            Some("分项报价表\n交货期 30 天\n质保\n")
        );
        assert!(is_xlsx("报价.XLSX", "") && !is_xlsx("报价.xls", ""));
        assert_eq!(
            office_text(f.path(), "报价.xlsx", "", 1 << 20).as_deref(),
            Some("分项报价表\n交货期 30 天\n质保\n")
        );
    }
}
