import Crypto
import Foundation
import NIOSSH
import Testing

@Suite("Authentication")
struct AuthenticationTests {
    @Test("a key offered with another key's signature does not authenticate as the offered key")
    func signatureMustMatchOfferedKey() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let victim = NIOSSHPrivateKey(ed25519Key: Curve25519.Signing.PrivateKey())
            let attacker = NIOSSHPrivateKey(ed25519Key: Curve25519.Signing.PrivateKey())
            _ = try await gatehouse.data.keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "victim",
                keyText: String(openSSHPublicKey: victim.publicKey))
            let forged = try await RawSSHClient.authenticates(port: gatehouse.port, offering: victim.publicKey, signingWith: attacker)
            #expect(!forged)
            // The same client with the matching private key gets in, so the refusal above is about the signature.
            let genuine = try await RawSSHClient.authenticates(port: gatehouse.port, offering: victim.publicKey, signingWith: victim)
            #expect(genuine)
        }
    }

    @Test("a client offering an RSA key first still authenticates with its Ed25519 key")
    func rsaFirstThenEd25519() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let rsa = try await gatehouse.key("rsa", bits: 3072)
            let ed25519 = try await gatehouse.key()
            // The RSA key is a stored deployment key too: the built-in server cannot verify it, and must not stop there.
            try await gatehouse.addDeployKey(rsa, to: ["acme/lib"], label: "rsa")
            try await gatehouse.addDeployKey(ed25519, to: ["acme/app"], label: "ed")
            let result = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [rsa, ed25519])
            #expect(result.succeeded, "\(result)")
            #expect(result.stdout.contains("refs/heads/main"))
        }
    }

    @Test(
        "RSA, ECDSA and Ed25519 deployment keys clone through OpenSSH, and pushes with them are refused",
        arguments: [
            ("rsa", 3072), ("ecdsa", 256), ("ed25519", 0),
        ])
    func keyTypesThroughOpenSSH(type: String, bits: Int) async throws {
        try await TestGatehouse.with(.openSSH) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let key = try await gatehouse.key(type, bits: bits == 0 ? nil : bits)
            try await gatehouse.addDeployKey(key, to: ["acme/app"])
            let clone = gatehouse.scratch("clone")
            let cloned = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), clone.path], keys: [key])
            #expect(cloned.succeeded, "\(cloned)")
            let before = try await gatehouse.refs(of: "acme/app")
            let push = try await gatehouse.pushCommit(to: "acme/app", with: key, file: "nope", content: "x")
            #expect(!push.succeeded && push.stderr.contains("is read-only"), "\(push)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)
        }
    }

    @Test("ECDSA keys of every size authenticate", arguments: [256, 384, 521])
    func ecdsaKeys(bits: Int) async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let key = try await gatehouse.key("ecdsa", bits: bits)
            try await gatehouse.addDeployKey(key, to: ["acme/app"])
            let result = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [key])
            #expect(result.succeeded, "\(result)")
        }
    }

    @Test("the host keys survive a restart and the printed known_hosts lines verify the server")
    func hostKeysPersist() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let first = try gatehouse.data.hostKeys().publicKeys.map(\.fingerprint)
            let second = try gatehouse.data.hostKeys().publicKeys.map(\.fingerprint)
            #expect(first == second && first.count == 2)
            let mode =
                try FileManager.default.attributesOfItem(atPath: gatehouse.data.url.appendingPathComponent("ssh_host_ed25519_key").path)[.posixPermissions]
                as? Int
            #expect(mode == 0o600)
            let knownHosts = gatehouse.root.appendingPathComponent("known_hosts")
            try (try gatehouse.data.hostKeys().knownHostsLines(host: "127.0.0.1", port: gatehouse.port).joined(separator: "\n") + "\n")
                .write(to: knownHosts, atomically: true, encoding: .utf8)
            let strict = try await gatehouse.ssh(ownerKey, options: ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts.path)", "-T"])
            #expect(strict.succeeded, "\(strict)")
            let impostor = try await gatehouse.key().publicKey.split(separator: " ").prefix(2).joined(separator: " ")
            try "[127.0.0.1]:\(gatehouse.port) \(impostor)\n".write(to: knownHosts, atomically: true, encoding: .utf8)
            let wrong = try await gatehouse.ssh(
                ownerKey,
                options: ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts.path)", "-o", "HostKeyAlgorithms=ssh-ed25519", "-T"])
            #expect(!wrong.succeeded)
            #expect(wrong.stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || wrong.stderr.contains("Host key verification failed"), "\(wrong)")
        }
    }
}
