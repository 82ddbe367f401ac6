import Foundation
import GatehouseCore
import Testing

@Suite("Certificate authorities: machines clone with short-lived OpenSSH certificates")
struct CertificateAuthorityTests {
    /// Signs `key` with `authority` (`ssh-keygen -s`); the certificate is written next to the key, where ssh finds it.
    static func certify(_ key: KeyPair, by authority: KeyPair, principals: String, validity: String = "-5m:+1h") async throws {
        let signed = try await runCommand(
            "ssh-keygen",
            [
                "-q", "-s", authority.privateKeyPath, "-I", "runner-17", "-n", principals,
                "-V", validity, key.privateKeyPath + ".pub",
            ])
        guard signed.succeeded else { throw TestSetupError("ssh-keygen -s failed: \(signed)") }
    }

    static func trust(_ authority: KeyPair, on repositories: [String], principals: [String], in gatehouse: TestGatehouse) async throws -> [DeployKey] {
        try await gatehouse.data.keys.addDeployKey(
            actor: .localOperator, repositories: repositories, label: "build CA",
            keyText: authority.publicKey, certificatePrincipals: principals)
    }

    @Test("a certificate naming a trusted principal clones what its authority is on, read-only, through OpenSSH")
    func certificateClones() async throws {
        try await TestGatehouse.with(.openSSH) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/other"])
            let authority = try await gatehouse.key()
            _ = try await Self.trust(authority, on: ["acme/app"], principals: ["ci", "deploy"], in: gatehouse)
            let machine = try await gatehouse.key("ecdsa", bits: 256)
            try await Self.certify(machine, by: authority, principals: "deploy")

            let clone = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), gatehouse.scratch("c").path], keys: [machine])
            #expect(clone.succeeded, "\(clone)")
            let other = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/other"), gatehouse.scratch("o").path], keys: [machine])
            #expect(!other.succeeded && other.stderr.contains("acme/other.git' not found or access denied"), "\(other)")
            let before = try await gatehouse.refs(of: "acme/app")
            let push = try await gatehouse.pushCommit(to: "acme/app", with: machine, file: "evil", content: "x")
            #expect(!push.succeeded && push.stderr.contains("read-only"), "\(push)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)
            let greeting = try await gatehouse.ssh(machine)
            let fingerprint = try await authority.fingerprint()
            #expect(greeting.stderr.contains("\"build CA\"") && greeting.stderr.contains(fingerprint), "\(greeting)")
        }
    }

    @Test("refused: a principal the authority is not trusted for, an expired certificate, an unknown authority, the authority's own key")
    func refusals() async throws {
        try await TestGatehouse.with(.openSSH) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let authority = try await gatehouse.key()
            _ = try await Self.trust(authority, on: ["acme/app"], principals: ["ci"], in: gatehouse)
            let stranger = try await gatehouse.key()
            var cases: [(String, KeyPair)] = []
            for (name, signer, principals, validity) in [
                ("another principal", authority, "intern", "-5m:+1h"),
                ("expired", authority, "ci", "-2h:-1h"),
                ("unknown authority", stranger, "ci", "-5m:+1h"),
            ] {
                let machine = try await gatehouse.key()
                try await Self.certify(machine, by: signer, principals: principals, validity: validity)
                cases.append((name, machine))
            }
            cases.append(("the authority's own key", authority))
            for (name, key) in cases {
                let clone = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), gatehouse.scratch("r").path], keys: [key])
                #expect(!clone.succeeded && clone.stderr.contains("Permission denied"), "\(name): \(clone)")
            }
        }
    }

    @Test("removing the authority ends its certificates at the next connection")
    func removal() async throws {
        try await TestGatehouse.with(.openSSH) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let authority = try await gatehouse.key()
            let trusted = try await Self.trust(authority, on: ["acme/app"], principals: ["ci"], in: gatehouse)
            let machine = try await gatehouse.key()
            try await Self.certify(machine, by: authority, principals: "ci")
            #expect(try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [machine]).succeeded)
            try await gatehouse.data.keys.removeDeployKey(actor: .localOperator, repository: "acme/app", id: trusted[0].id)
            let after = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [machine])
            #expect(!after.succeeded && after.stderr.contains("Permission denied"), "\(after)")
            #expect(try await gatehouse.data.store.storedKey(fingerprint: try await authority.fingerprint()) == nil)
        }
    }

    @Test("the built-in server never takes an authority's key as a login key")
    func builtInRefusesAuthorityKey() async throws {
        try await TestGatehouse.with(.builtIn) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let authority = try await gatehouse.key()
            _ = try await Self.trust(authority, on: ["acme/app"], principals: ["ci"], in: gatehouse)
            let clone = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), gatehouse.scratch("b").path], keys: [authority])
            #expect(!clone.succeeded && clone.stderr.contains("Permission denied"), "\(clone)")
        }
    }

    @Test(
        "an authority and a login key never share a key, and an authority keeps one set of principals",
        arguments: [
            ("a deployment key added as an authority", "deploy", ["ci"], GatehouseError.keyIsNotCertificateAuthority),
            ("an authority added as a deployment key", "authority", nil, .keyIsCertificateAuthority),
            ("an authority added elsewhere with other principals", "authority", ["intern"], .certificatePrincipalsDiffer),
        ] as [(String, String, [String]?, GatehouseError)])
    func kindConflicts(name: String, existing: String, principals: [String]?, expected: GatehouseError) async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let key = try await gatehouse.key()
            if existing == "deploy" {
                try await gatehouse.addDeployKey(key, to: ["acme/app"])
            } else {
                _ = try await Self.trust(key, on: ["acme/app"], principals: ["ci"], in: gatehouse)
            }
            await #expect(throws: expected, "\(name)") {
                try await gatehouse.data.keys.addDeployKey(
                    actor: .localOperator, repositories: ["acme/lib"], label: "x",
                    keyText: key.publicKey, certificatePrincipals: principals)
            }
            #expect(try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/lib").isEmpty)
            _ = try await gatehouse.user("sam")
            await #expect(throws: existing == "deploy" ? GatehouseError.keyIsDeployKey : .keyIsCertificateAuthority) {
                try await gatehouse.addAccountKey(key, user: "sam")
            }
        }
    }
}
