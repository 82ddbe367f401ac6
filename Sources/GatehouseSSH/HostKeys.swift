import Crypto
import Foundation
import GatehouseKeys
import NIOSSH

/// The server's Ed25519 and ECDSA P-256 host keys: generated on first start, kept in the data directory
/// (mode 0600), reused afterwards so clients' known_hosts stay valid.
public struct HostKeys: Sendable {
    let nioKeys: [NIOSSHPrivateKey]

    /// Loads the keys from `directory`, creating any that are missing.
    public static func loadOrCreate(in directory: URL) throws -> HostKeys {
        let ed25519 = try loadOrCreate(
            directory.appendingPathComponent("ssh_host_ed25519_key"),
            make: { Curve25519.Signing.PrivateKey().rawRepresentation },
            parse: Curve25519.Signing.PrivateKey.init(rawRepresentation:))
        let p256 = try loadOrCreate(
            directory.appendingPathComponent("ssh_host_ecdsa_p256_key"),
            make: { P256.Signing.PrivateKey().rawRepresentation },
            parse: P256.Signing.PrivateKey.init(rawRepresentation:))
        return HostKeys(nioKeys: [NIOSSHPrivateKey(ed25519Key: ed25519), NIOSSHPrivateKey(p256Key: p256)])
    }

    /// The public halves as OpenSSH lines (`TYPE BASE64`).
    public var publicKeys: [PublicKey] {
        nioKeys.compactMap { try? PublicKey(parsing: String(openSSHPublicKey: $0.publicKey)) }
    }

    /// Lines for `~/.ssh/known_hosts`; OpenSSH writes `[host]:port` for ports other than 22.
    public func knownHostsLines(host: String, port: Int) -> [String] {
        publicKeys.map { KnownHosts.line(host: host, port: port, key: $0.openSSH) }
    }

    private static func loadOrCreate<Key>(_ file: URL, make: () -> Data, parse: (Data) throws -> Key) throws -> Key {
        if let data = FileManager.default.contents(atPath: file.path) {
            return try parse(data)
        }
        let data = make()
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            // Another process created it first: use theirs.
            if errno == EEXIST, let data = FileManager.default.contents(atPath: file.path) { return try parse(data) }
            throw HostKeyError.cannotWrite(file.path, String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else { throw HostKeyError.cannotWrite(file.path, String(cString: strerror(errno))) }
        return try parse(data)
    }
}

enum HostKeyError: Error, CustomStringConvertible {
    case cannotWrite(String, String)

    var description: String {
        switch self {
        case .cannotWrite(let path, let reason): "Cannot write the host key \(path): \(reason). Check that the data directory is writable."
        }
    }
}
