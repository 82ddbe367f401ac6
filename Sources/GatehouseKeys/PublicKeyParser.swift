import Crypto

extension PublicKey {
    /// The longest text accepted: far above a 16384-bit RSA key with a long comment.
    public static let maximumTextLength = 16 * 1024
    /// RSA keys below this size are refused.
    public static let minimumRSABits = 2048

    /// Parses one line of an OpenSSH `.pub` file (`type base64 [comment]`).
    /// Surrounding whitespace and CRLF are trimmed; anything else that is not exactly one valid key throws.
    public init(parsing text: String) throws(KeyError) {
        guard text.utf8.count <= Self.maximumTextLength else { throw .tooLong(limit: Self.maximumTextLength) }
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        if trimmed.contains("PRIVATE KEY-----") || trimmed.hasPrefix("PuTTY-User-Key-File") { throw .privateKey }
        if trimmed.hasPrefix("---- BEGIN SSH2 PUBLIC KEY") { throw .rfc4716Format }
        let lines = trimmed.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard lines.count == 1 else { throw .severalKeys }
        guard !trimmed.contains("\0") else { throw .badBase64 }

        let fields = trimmed.split(maxSplits: 2, whereSeparator: { $0 == " " || $0 == "\t" })
        let declaredName = String(fields[0])
        guard let declared = KeyType(rawValue: declaredName) else {
            throw Self.classifyUnknown(declaredName, rest: fields.dropFirst())
        }
        guard fields.count >= 2 else { throw .missingKeyData }
        guard let blob = Base64.decode(fields[1]) else { throw .badBase64 }
        let bits = try Self.validate(blob: blob, declared: declared)
        let comment = fields.count > 2 ? String(fields[2]).trimmingWhitespace() : nil

        self.type = declared
        self.blob = blob
        self.comment = comment?.isEmpty == true ? nil : comment
        self.bits = bits
    }

    private static func classifyUnknown(_ name: String, rest: ArraySlice<Substring>) -> KeyError {
        if name == "ssh-dss" { return .dsaUnsupported }
        if name.contains("-cert-v01@openssh.com") { return .certificateUnsupported(name) }
        if rest.contains(where: { KeyType(rawValue: String($0)) != nil || $0 == "ssh-dss" }) { return .options }
        return .unknownType(name)
    }

    /// Checks the blob's structure against the declared type and returns the key size in bits.
    private static func validate(blob: [UInt8], declared: KeyType) throws(KeyError) -> Int {
        var reader = WireReader(blob)
        let inBlob = try reader.readText()
        guard inBlob == declared.rawValue else { throw .typeMismatch(declared: declared.rawValue, inBlob: inBlob) }
        let bits: Int
        switch declared {
        case .ed25519, .skEd25519:
            guard try reader.readString().count == 32 else { throw .truncated }
            bits = 256
        case .ecdsaP256, .ecdsaP384, .ecdsaP521, .skECDSAP256:
            guard try reader.readText() == declared.ecdsaCurve else { throw .typeMismatch(declared: declared.rawValue, inBlob: inBlob) }
            let point = try reader.readString()
            guard point.count == declared.ecdsaPointLength else { throw .invalidPoint }
            try checkOnCurve(Array(point), type: declared)
            bits = (point.count - 1) / 2 * 8 == 528 ? 521 : (point.count - 1) / 2 * 8
        case .rsa:
            let exponent = try reader.readString()
            guard !exponent.isEmpty else { throw .truncated }
            bits = bitLength(ofMPInt: try reader.readString())
            guard bits >= minimumRSABits else { throw .rsaTooShort(bits: bits, minimum: minimumRSABits) }
        }
        if declared == .skEd25519 || declared == .skECDSAP256 {
            _ = try reader.readString()  // the FIDO application, usually "ssh:"
        }
        guard reader.isAtEnd else { throw .trailingData }
        return bits
    }

    private static func checkOnCurve(_ point: [UInt8], type: KeyType) throws(KeyError) {
        do {
            switch type {
            case .ecdsaP256, .skECDSAP256: _ = try P256.Signing.PublicKey(x963Representation: point)
            case .ecdsaP384: _ = try P384.Signing.PublicKey(x963Representation: point)
            case .ecdsaP521: _ = try P521.Signing.PublicKey(x963Representation: point)
            default: break
            }
        } catch {
            throw .invalidPoint
        }
    }

    private static func bitLength(ofMPInt bytes: ArraySlice<UInt8>) -> Int {
        guard let first = bytes.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (bytes.endIndex - first - 1) * 8 + (8 - bytes[first].leadingZeroBitCount)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
