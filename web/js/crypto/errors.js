// CryptoError: the stable codes of docs/bid-format.md ("Errors when opening"), the same
// as src/crypto/error.rs, plus a few for misuse of the sealing side.

const MESSAGES = {
  CONTAINER_MAGIC: ['文件不是开标系统的投标密文(KB1)', 'The file is not a sealed bid (KB1 container)'],
  CONTAINER_HEADER: [
    '投标密文的文件头格式错误,请用本系统重新加密',
    "The sealed bid's header is malformed; seal it again with this platform",
  ],
  CONTAINER_SUITE: ['投标密文使用了不支持的算法或版本', 'The sealed bid uses an unsupported suite or version'],
  CONTAINER_TRUNCATED: [
    '投标密文不完整(文件被截断),请重新上传',
    'The sealed bid is incomplete (truncated); upload it again',
  ],
  HEADER_MISMATCH: [
    '投标密文属于其他项目、标段、供应商、投标或密钥(字段 {field})',
    'The sealed bid belongs to another tender, lot, bidder, bid or key ({field})',
  ],
  KB_UNSEAL_FAILED: [
    '无法用您的加密密钥解开投标密钥,请确认使用了投标时的密钥',
    'Your encryption key does not open the bid key; use the key you sealed with',
  ],
  KB_HASH_MISMATCH: [
    '提交的解密密钥与投标时登记的不一致',
    'The decryption key presented does not match the one registered at sealing',
  ],
  KT_UNSEAL_FAILED: [
    '开标密钥无法解开该投标(可能加密时使用了错误的项目公钥)',
    'The tender key does not open this bid (it may have been sealed to a wrong key)',
  ],
  SEGMENT_AUTH_FAILED: [
    '投标密文第 {segment} 段校验失败:文件已被篡改或损坏',
    'Segment {segment} of the sealed bid failed its check: the file was altered or damaged',
  ],
  PACKAGE_MALFORMED: ['解密后的投标文件格式错误', 'The decrypted bid package is malformed'],
  PLAINTEXT_HASH_MISMATCH: ['投标文件内容与其摘要不符({what})', 'The bid package does not match its hashes ({what})'],
  IO: ['读写投标文件时出错,请重试', 'Reading or writing the bid file failed; try again'],
  INVALID_PUBLIC_KEY: ['公钥无效(须为 P-256 非压缩格式)', 'Invalid public key (must be an uncompressed P-256 point)'],
  INVALID_ARGUMENT: ['参数错误:{detail}', 'Invalid argument: {detail}'],
  HPKE_OPEN_FAILED: ['无法用该密钥解密', 'The key does not open this ciphertext'],
};

export class CryptoError extends Error {
  /**
   * @param {string} code one of the keys of MESSAGES
   * @param {string} [detail] for developers and logs, not a stable contract
   * @param {{segment?: number, field?: string, what?: string}} [info]
   */
  constructor(code, detail = '', info = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'CryptoError';
    this.code = code;
    this.detail = detail;
    /** SEGMENT_AUTH_FAILED: 0-based index of the segment whose tag failed. */
    this.segment = info.segment ?? null;
    /** HEADER_MISMATCH: the first header field that differs from the expectation. */
    this.field = info.field ?? null;
    /** PLAINTEXT_HASH_MISMATCH: "manifest" or "document N". */
    this.what = info.what ?? null;
  }

  /** [Chinese, English] messages a supplier can act on. */
  messages() {
    const [zh, en] = MESSAGES[this.code] || [this.code, this.code];
    const fill = (s) =>
      s.replace(/\{(\w+)\}/g, (_, k) => String(k === 'detail' ? this.detail : this[k] ?? ''));
    return [fill(zh), fill(en)];
  }
}
