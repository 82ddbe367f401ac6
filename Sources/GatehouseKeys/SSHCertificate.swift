/// An OpenSSH certificate (PROTOCOL.certkeys) as sshd hands it to `AuthorizedKeysCommand` (`%t %k`).
///
/// Only what Gatehouse needs to find the authority is read: the signing key and the principals. sshd itself
/// checks the signature, the validity period and the principals against the `cert-authority` line it gets
/// back, so nothing here decides whether the certificate is good.
public struct SSHCertificate: Sendable {
    /// The certificate authority's public key, which signed the certificate.
    public let signingKey: PublicKey
    public let principals: [String]

    /// The certificate types OpenSSH defines, with the key type each certifies.
    public static let types: [String: KeyType] = Dictionary(
        uniqueKeysWithValues: KeyType.allCases.map { type in
            let name =
                type.rawValue.hasSuffix("@openssh.com")
                ? type.rawValue.replacingOccurrences(of: "@openssh.com", with: "-cert-v01@openssh.com")
                : type.rawValue + "-cert-v01@openssh.com"
            return (name, type)
        })

    /// Parses `TYPE BASE64`, where TYPE is a certificate type such as `ssh-ed25519-cert-v01@openssh.com`.
    public init(type name: String, base64: String) throws(KeyError) {
        guard let certified = Self.types[name] else { throw .unknownType(name) }
        guard base64.utf8.count <= PublicKey.maximumTextLength else { throw .tooLong(limit: PublicKey.maximumTextLength) }
        guard let blob = Base64.decode(Substring(base64)) else { throw .badBase64 }
        var reader = WireReader(blob)
        let inBlob = try reader.readText()
        guard inBlob == name else { throw .typeMismatch(declared: name, inBlob: inBlob) }
        _ = try reader.readString()  // nonce
        for _ in 0..<Self.publicFieldCount(certified) { _ = try reader.readString() }
        try reader.skip(8 + 4)  // serial, certificate type (user or host)
        _ = try reader.readString()  // key id
        var principalsReader = WireReader(Array(try reader.readString()))
        var principals: [String] = []
        while !principalsReader.isAtEnd { principals.append(try principalsReader.readText()) }
        try reader.skip(8 + 8)  // valid after, valid before
        for _ in 0..<3 { _ = try reader.readString() }  // critical options, extensions, reserved
        let signingBlob = Array(try reader.readString())
        _ = try reader.readString()  // signature
        guard reader.isAtEnd else { throw .trailingData }
        var signingReader = WireReader(signingBlob)
        let signingType = try signingReader.readText()
        let parsed = try PublicKey(parsing: "\(signingType) \(Base64.encode(signingBlob))")
        // The text form would let a type name with a space in it stand for another key: insist on this blob.
        guard parsed.blob == signingBlob else { throw .typeMismatch(declared: signingType, inBlob: parsed.type.rawValue) }
        signingKey = parsed
        self.principals = principals
    }

    /// How many wire strings (or mpints) the certified key's public part has between nonce and serial.
    private static func publicFieldCount(_ type: KeyType) -> Int {
        switch type {
        case .ed25519: 1  // pk
        case .ecdsaP256, .ecdsaP384, .ecdsaP521, .rsa, .skEd25519: 2  // curve and point; e and n; pk and application
        case .skECDSAP256: 3  // curve, point, application
        }
    }
}
