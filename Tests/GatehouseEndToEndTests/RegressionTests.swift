import Crypto
import Foundation
import GatehouseCore
import NIOSSH
import Testing

/// Holes found in other Git servers, each tried against Gatehouse the way its exploit worked.
@Suite("Other Git servers' vulnerabilities, tried here")
struct RegressionTests {
    @Test(
        "a key the server accepted as a query gives nothing to the different key that signs next (Go x/crypto CVE-2024-45337)",
        arguments: [FrontEnd.builtIn, .openSSH])
    func queriedKeyIsNotTheSigner(_ frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            try await gatehouse.user("sam")
            let samKey = try await gatehouse.key()
            try await gatehouse.addAccountKey(samKey, user: "sam")
            // The deployment key's public half alone as an identity: ssh offers it, the server says it would accept
            // it, and ssh, unable to sign, goes on to sam's key. A server that remembered the first key would let sam in.
            let publicOnly = gatehouse.root.appendingPathComponent("public-only.pub")
            try (deployKey.publicKey + "\n").write(to: publicOnly, atomically: true, encoding: .utf8)
            let offeredFirst = KeyPair(privateKeyPath: publicOnly.path, publicKey: deployKey.publicKey)

            let result = try await gatehouse.advertisement("acme/app", keys: [offeredFirst, samKey], options: ["-v"])

            #expect(result.stderr.contains("Server accepts key: \(publicOnly.path)"), "the deployment key was offered and accepted: \(result)")
            #expect(!result.succeeded, "\(result)")
            #expect(!result.stdout.contains("refs/heads/main"), "\(result)")
            let greeting = try await gatehouse.ssh(offeredFirst, samKey, options: ["-o", "RequestTTY=no"])
            #expect(greeting.stderr.contains("sam") || greeting.stdout.contains("sam"), "the session is sam's: \(greeting)")
        }
    }

    @Test("no other method completes what a refused key began, and none but public keys is offered (Gitblit CVE-2024-28080)")
    func noMethodAfterAnother() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let victim = NIOSSHPrivateKey(ed25519Key: Curve25519.Signing.PrivateKey())
            let attacker = NIOSSHPrivateKey(ed25519Key: Curve25519.Signing.PrivateKey())
            _ = try await gatehouse.data.keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "victim", keyText: String(openSSHPublicKey: victim.publicKey))
            let forged = NIOSSHUserAuthenticationOffer.Offer.privateKey(offering: victim.publicKey, signingWith: attacker)

            // On one connection: the victim's key with the attacker's signature, then a password, then nothing.
            #expect(try await !RawSSHClient.authenticates(port: gatehouse.port, offers: [forged, .password(.init(password: "anything")), .none]))
            // The same sequence ending in the genuine key gets in: the refusals above are the server's, not the client's.
            #expect(try await RawSSHClient.authenticates(port: gatehouse.port, offers: [forged, .privateKey(.init(privateKey: victim))]))

            // Each other method alone, as paramiko sends it: not offered, and never authenticated.
            for method in ["password", "keyboard-interactive", "none"] {
                let result = try await Probe.run(
                    port: gatehouse.port,
                    """
                    import paramiko
                    t = paramiko.Transport(connect("127.0.0.1")); t.start_client()
                    outcome = "accepted"
                    try:
                        if sys.argv[2] == "password": t.auth_password("git", "anything")
                        elif sys.argv[2] == "none": t.auth_none("git")
                        else: t.auth_interactive("git", lambda title, instructions, prompts: ["anything"] * len(prompts))
                    except paramiko.BadAuthenticationType as error:
                        outcome = "not offered; allowed: " + ",".join(error.allowed_types)
                    except paramiko.SSHException:
                        outcome = "refused"
                    print(json.dumps({"outcome": outcome, "authenticated": t.is_authenticated()}))
                    """, arguments: [method])
                #expect(result["authenticated"] as? Bool == false, "\(method): \(result)")
                // NIOSSH does not know keyboard-interactive at all: it closes the connection instead of listing methods.
                let expected = method == "keyboard-interactive" ? "refused" : "not offered; allowed: publickey"
                #expect(result["outcome"] as? String == expected, "\(method): \(result)")
            }
        }
    }

    @Test(
        "variables a client sends never reach git: no LD_PRELOAD, no GIT_CONFIG_* hook (Soft Serve CVE-2024-41956)",
        arguments: [FrontEnd.builtIn, .openSSH])
    func clientEnvironmentNeverReachesGit(_ frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            let key = try await gatehouse.seeded(repositories: ["acme/app"])
            let marker = gatehouse.root.appendingPathComponent("hook-ran")
            let hook = gatehouse.root.appendingPathComponent("hook.sh")
            try "#!/bin/sh\ntouch \(marker.path)\nexec \"$@\"\n".write(to: hook, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
            // Through GIT_CONFIG_*, upload-pack would run the hook for the pack; LD_PRELOAD would make the loader complain.
            let variables = [
                "LD_PRELOAD=/nonexistent/gatehouse-preload.so", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=uploadpack.packObjectsHook",
                "GIT_CONFIG_VALUE_0=\(hook.path)", "\"GIT_CONFIG_PARAMETERS='core.fsmonitor=\(hook.path)'\"",
            ]
            let sshCommand = TestGatehouse.shellQuoted(gatehouse.sshCommand([key], options: ["-o", "SetEnv=\(variables.joined(separator: " "))"]))
            let clone = try await gatehouse.runAsync(
                "git", ["clone", "-q", gatehouse.url("acme/app"), gatehouse.scratch("env").path], environment: ["GIT_SSH_COMMAND": sshCommand])
            #expect(clone.succeeded, "\(clone)")
            #expect(!FileManager.default.fileExists(atPath: marker.path), "a client's variable reached git")
            #expect(!clone.stderr.contains("preload"), "\(clone)")
        }
    }

    /// Repository paths that a shell or git would take for an option or a command.
    static let optionLikePaths = [
        "--upload-pack=touch MARKER", "-c core.sshCommand=touch MARKER", "acme/--help", "acme/-x", "--help", "acme/app.git --version",
    ]

    @Test(
        "a repository path shaped like an option or a command runs nothing and reveals nothing (Soft Serve's command injection)",
        arguments: [FrontEnd.builtIn, .openSSH])
    func optionLikeRepositoryNames(_ frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            let key = try await gatehouse.seeded(repositories: ["acme/app"])
            let marker = gatehouse.root.appendingPathComponent("option-ran")
            for path in Self.optionLikePaths {
                let named = path.replacingOccurrences(of: "MARKER", with: marker.path)
                for service in ["git-upload-pack", "git-receive-pack", "git-upload-archive"] {
                    let result = try await gatehouse.ssh(key, command: "\(service) '\(named)'", input: "0000")
                    #expect(!result.succeeded, "\(service) '\(named)': \(result)")
                    #expect(!result.stdout.contains("refs/heads"), "\(service) '\(named)': \(result)")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: marker.path), "an option-shaped path ran something")
            for slug in ["-x", "--help", "-c"] {
                await #expect(throws: GatehouseError.self, "repository \(slug)") {
                    _ = try await gatehouse.data.directory.createRepository("acme/\(slug)", isPrivate: true)
                }
            }
        }
    }
}
