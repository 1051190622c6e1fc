//! `CryptoError`: one variant per stable code of docs/bid-format.md ("Errors when opening"),
//! plus a few for misuse of the sealing side (`IO`, `INVALID_PUBLIC_KEY`,
//! `INVALID_ARGUMENT`, `HPKE_OPEN_FAILED`).

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CryptoError {
    #[error("not a KB1 container")]
    ContainerMagic,
    /// Header length out of range, not canonical JSON, unknown or missing field, bad base64
    /// or sizes. The detail is for logs and developers, not a stable contract.
    #[error("bad container header: {0}")]
    ContainerHeader(String),
    #[error("unknown suite or version")]
    ContainerSuite,
    /// The container ends inside the header or inside a segment tag, or its length is not
    /// one a KB1 sealer produces for the header's `segment_size` (see `kb1::check_length`).
    #[error("container truncated")]
    ContainerTruncated,
    #[error("header names another {field} than expected")]
    HeaderMismatch { field: &'static str },
    #[error("kb does not open with the bidder's key")]
    KbUnsealFailed,
    #[error("kb does not hash to kb_sha256")]
    KbHashMismatch,
    #[error("kt does not open with the tender key")]
    KtUnsealFailed,
    #[error("segment {segment} failed authentication")]
    SegmentAuthFailed { segment: u64 },
    #[error("malformed package: {0}")]
    PackageMalformed(String),
    /// `what` is `"manifest"` or `"document N"` (0-based).
    #[error("{what} does not match the trailer's SHA-256")]
    PlaintextHashMismatch { what: String },
    #[error("i/o error: {0}")]
    Io(String),
    #[error("invalid public key")]
    InvalidPublicKey,
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("HPKE open failed")]
    HpkeOpenFailed,
}

impl CryptoError {
    /// The stable code, exactly as in docs/bid-format.md.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::ContainerMagic => "CONTAINER_MAGIC",
            CryptoError::ContainerHeader(_) => "CONTAINER_HEADER",
            CryptoError::ContainerSuite => "CONTAINER_SUITE",
            CryptoError::ContainerTruncated => "CONTAINER_TRUNCATED",
            CryptoError::HeaderMismatch { .. } => "HEADER_MISMATCH",
            CryptoError::KbUnsealFailed => "KB_UNSEAL_FAILED",
            CryptoError::KbHashMismatch => "KB_HASH_MISMATCH",
            CryptoError::KtUnsealFailed => "KT_UNSEAL_FAILED",
            CryptoError::SegmentAuthFailed { .. } => "SEGMENT_AUTH_FAILED",
            CryptoError::PackageMalformed(_) => "PACKAGE_MALFORMED",
            CryptoError::PlaintextHashMismatch { .. } => "PLAINTEXT_HASH_MISMATCH",
            CryptoError::Io(_) => "IO",
            CryptoError::InvalidPublicKey => "INVALID_PUBLIC_KEY",
            CryptoError::InvalidArgument(_) => "INVALID_ARGUMENT",
            CryptoError::HpkeOpenFailed => "HPKE_OPEN_FAILED",
        }
    }

    /// (Chinese, English) messages a supplier or the opening host can act on.
    pub fn messages(&self) -> (String, String) {
        match self {
            CryptoError::ContainerMagic => (
                "文件不是开标系统的投标密文(KB1)".into(),
                "The file is not a sealed bid (KB1 container)".into(),
            ),
            CryptoError::ContainerHeader(_) => (
                "投标密文的文件头格式错误,请用本系统重新加密".into(),
                "The sealed bid's header is malformed; seal it again with this platform".into(),
            ),
            CryptoError::ContainerSuite => (
                "投标密文使用了不支持的算法或版本".into(),
                "The sealed bid uses an unsupported suite or version".into(),
            ),
            CryptoError::ContainerTruncated => (
                "投标密文不完整(文件被截断),请重新上传".into(),
                "The sealed bid is incomplete (truncated); upload it again".into(),
            ),
            CryptoError::HeaderMismatch { field } => (
                format!("投标密文属于其他项目、标段、供应商、投标或密钥(字段 {field})"),
                format!("The sealed bid belongs to another tender, lot, bidder, bid or key ({field})"),
            ),
            CryptoError::KbUnsealFailed => (
                "无法用您的加密密钥解开投标密钥,请确认使用了投标时的密钥".into(),
                "Your encryption key does not open the bid key; use the key you sealed with".into(),
            ),
            CryptoError::KbHashMismatch => (
                "提交的解密密钥与投标时登记的不一致".into(),
                "The decryption key presented does not match the one registered at sealing".into(),
            ),
            CryptoError::KtUnsealFailed => (
                "开标密钥无法解开该投标(可能加密时使用了错误的项目公钥)".into(),
                "The tender key does not open this bid (it may have been sealed to a wrong key)".into(),
            ),
            CryptoError::SegmentAuthFailed { segment } => (
                format!("投标密文第 {segment} 段校验失败:文件已被篡改或损坏"),
                format!("Segment {segment} of the sealed bid failed its check: the file was altered or damaged"),
            ),
            CryptoError::PackageMalformed(_) => (
                "解密后的投标文件格式错误".into(),
                "The decrypted bid package is malformed".into(),
            ),
            CryptoError::PlaintextHashMismatch { what } => (
                format!("投标文件内容与其摘要不符({what})"),
                format!("The bid package does not match its hashes ({what})"),
            ),
            CryptoError::Io(_) => (
                "读写投标文件时出错,请重试".into(),
                "Reading or writing the bid file failed; try again".into(),
            ),
            CryptoError::InvalidPublicKey => (
                "公钥无效(须为 P-256 非压缩格式)".into(),
                "Invalid public key (must be an uncompressed P-256 point)".into(),
            ),
            CryptoError::InvalidArgument(detail) => (
                format!("参数错误:{detail}"),
                format!("Invalid argument: {detail}"),
            ),
            CryptoError::HpkeOpenFailed => (
                "无法用该密钥解密".into(),
                "The key does not open this ciphertext".into(),
            ),
        }
    }

    /// Maps an I/O error, unwrapping a `CryptoError` carried inside it (as `kb1::OpenReader`
    /// reports tag failures through `std::io::Read`).
    pub(crate) fn from_io(e: std::io::Error) -> CryptoError {
        if e.get_ref().is_some_and(|inner| inner.is::<CryptoError>()) {
            let inner = e.into_inner().expect("checked above");
            return *inner.downcast::<CryptoError>().expect("checked above");
        }
        CryptoError::Io(e.to_string())
    }
}

impl From<std::io::Error> for CryptoError {
    fn from(e: std::io::Error) -> Self {
        CryptoError::from_io(e)
    }
}
