/// Why a text was refused as an OpenSSH public key. Each message says what was wrong and what to do.
public enum KeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(limit: Int)
    case privateKey
    case rfc4716Format
    case severalKeys
    case options
    case dsaUnsupported
    case certificateUnsupported(String)
    case unknownType(String)
    case missingKeyData
    case badBase64
    case typeMismatch(declared: String, inBlob: String)
    case truncated
    case trailingData
    case invalidPoint
    case rsaTooShort(bits: Int, minimum: Int)

    public var description: String {
        switch self {
        case .empty:
            "The key is empty. Paste one line from your public key file, e.g. ~/.ssh/id_ed25519.pub."
        case .tooLong(let limit):
            "The key is longer than \(limit) characters. Paste a single OpenSSH public key line."
        case .privateKey:
            "this is a private key; paste the contents of the .pub file instead (e.g. ~/.ssh/id_ed25519.pub). Treat the private key as exposed and consider generating a new one."
        case .rfc4716Format:
            "This is an RFC 4716 (SSH2) public key. Convert it to the one-line OpenSSH format with `ssh-keygen -i -f FILE` and paste that."
        case .severalKeys:
            "The text holds more than one key. Add one key at a time."
        case .options:
            "The key starts with authorized_keys options. Remove everything before the key type (e.g. ssh-ed25519)."
        case .dsaUnsupported:
            "DSA (ssh-dss) keys are insecure and not accepted. Generate a new key with `ssh-keygen -t ed25519`."
        case .certificateUnsupported(let type):
            "\(type) is an SSH certificate, not a public key. Paste the plain public key."
        case .unknownType(let type):
            "Unsupported key type \"\(type)\". Supported: \(KeyType.allCases.map(\.rawValue).joined(separator: ", "))."
        case .missingKeyData:
            "The key type is not followed by the key data. Paste the whole line from the .pub file."
        case .badBase64:
            "The key data is not valid base64. Paste the whole line from the .pub file without changes."
        case .typeMismatch(let declared, let inBlob):
            "The key says it is \(declared) but its data is a \(inBlob) key. Paste the line from the .pub file unchanged."
        case .truncated:
            "The key data is incomplete (truncated). Paste the whole line from the .pub file."
        case .trailingData:
            "The key data has extra bytes after the key. Paste the line from the .pub file unchanged."
        case .invalidPoint:
            "The ECDSA key's point is not on its curve. Paste the line from the .pub file unchanged."
        case .rsaTooShort(let bits, let minimum):
            "This RSA key has \(bits) bits; at least \(minimum) are required. Generate a new key with `ssh-keygen -t ed25519`."
        }
    }
}
