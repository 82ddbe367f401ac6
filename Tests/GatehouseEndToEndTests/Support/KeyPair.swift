import Foundation

/// An SSH key pair made by the real ssh-keygen.
struct KeyPair {
    var privateKeyPath: String
    var publicKey: String

    /// `type` is ssh-keygen's `-t` (ed25519, ecdsa, rsa); `bits` its `-b`.
    static func generate(_ type: String, bits: Int? = nil, in directory: URL) async throws -> KeyPair {
        let path = directory.appendingPathComponent("id_\(type)_\(UUID().uuidString.prefix(8))").path
        var arguments = ["-q", "-t", type, "-N", "", "-C", "\(type)@tests", "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        let result = try await runCommand("ssh-keygen", arguments)
        guard result.succeeded else { throw TestSetupError("ssh-keygen failed: \(result)") }
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        return KeyPair(privateKeyPath: path, publicKey: publicKey.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The fingerprint as ssh-keygen prints it.
    func fingerprint() async throws -> String {
        let result = try await runCommand("ssh-keygen", ["-lf", privateKeyPath + ".pub"])
        return String(result.stdout.split(separator: " ")[1])
    }
}
