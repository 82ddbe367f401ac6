/// The OpenSSH public key algorithms Gatehouse accepts.
public enum KeyType: String, Sendable, CaseIterable, Codable {
    case ed25519 = "ssh-ed25519"
    case ecdsaP256 = "ecdsa-sha2-nistp256"
    case ecdsaP384 = "ecdsa-sha2-nistp384"
    case ecdsaP521 = "ecdsa-sha2-nistp521"
    case rsa = "ssh-rsa"
    case skEd25519 = "sk-ssh-ed25519@openssh.com"
    case skECDSAP256 = "sk-ecdsa-sha2-nistp256@openssh.com"

    /// The name `ssh-keygen -l` prints in parentheses, e.g. `ED25519` or `ECDSA-SK`.
    public var displayName: String {
        switch self {
        case .ed25519: "ED25519"
        case .ecdsaP256, .ecdsaP384, .ecdsaP521: "ECDSA"
        case .rsa: "RSA"
        case .skEd25519: "ED25519-SK"
        case .skECDSAP256: "ECDSA-SK"
        }
    }

    /// Whether the built-in SSH server (swift-nio-ssh) can verify signatures made with this key type.
    /// The others are served by the OpenSSH front end.
    public var isServedByBuiltInServer: Bool {
        switch self {
        case .ed25519, .ecdsaP256, .ecdsaP384, .ecdsaP521: true
        case .rsa, .skEd25519, .skECDSAP256: false
        }
    }

    /// The curve name an ECDSA blob must carry, nil for other types.
    var ecdsaCurve: String? {
        switch self {
        case .ecdsaP256, .skECDSAP256: "nistp256"
        case .ecdsaP384: "nistp384"
        case .ecdsaP521: "nistp521"
        default: nil
        }
    }

    /// Length of the uncompressed EC point (0x04 || X || Y) for ECDSA types.
    var ecdsaPointLength: Int? {
        switch self {
        case .ecdsaP256, .skECDSAP256: 65
        case .ecdsaP384: 97
        case .ecdsaP521: 133
        default: nil
        }
    }
}
