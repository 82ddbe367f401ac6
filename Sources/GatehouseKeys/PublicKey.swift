import Crypto

/// A validated OpenSSH public key.
public struct PublicKey: Sendable, Hashable {
    public let type: KeyType
    /// The decoded key blob in SSH wire format; fingerprints are computed over it.
    public let blob: [UInt8]
    /// The comment after the key data, if any (often `user@host`).
    public let comment: String?
    /// Key size in bits as `ssh-keygen -l` reports it.
    public let bits: Int

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -lf` prints it.
    public var fingerprint: String {
        "SHA256:" + Base64.encode(Array(SHA256.hash(data: blob)), padded: false)
    }

    /// `TYPE BASE64`, without the comment: the canonical text stored and compared.
    public var openSSH: String { "\(type.rawValue) \(Base64.encode(blob))" }

    /// `TYPE BASE64 COMMENT`, as it would appear in a .pub file.
    public var openSSHWithComment: String {
        guard let comment, !comment.isEmpty else { return openSSH }
        return "\(openSSH) \(comment)"
    }
}
