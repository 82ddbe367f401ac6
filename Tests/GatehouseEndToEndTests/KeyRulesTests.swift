import Foundation
import GatehouseCore
import GatehouseKeys
import Testing

@Suite("Deployment key rules")
struct KeyRulesTests {
    @Test("an account's key cannot become a deployment key, and the reverse; neither message names the other account")
    func accountAndDeployKeysNeverOverlap() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.user("alice")
            let aliceKey = try await gatehouse.key()
            try await gatehouse.addAccountKey(aliceKey, user: "alice")
            await #expect(throws: GatehouseError.keyIsAccountKey) { try await gatehouse.addDeployKey(aliceKey, to: ["acme/app"]) }
            #expect(!GatehouseError.keyIsAccountKey.description.contains("alice"))

            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            await #expect(throws: GatehouseError.keyIsDeployKey) { try await gatehouse.addAccountKey(deployKey, user: "alice") }
            await #expect(throws: GatehouseError.keyAlreadyRegistered) { try await gatehouse.addAccountKey(aliceKey, user: "olivia") }
        }
    }

    @Test("the same key twice on one repository is refused; on another repository it is a new attachment")
    func duplicateOnRepository() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let key = try await gatehouse.key()
            try await gatehouse.addDeployKey(key, to: ["acme/app"], label: "first")
            await #expect(throws: GatehouseError.keyAlreadyOnRepository("acme/app")) {
                try await gatehouse.addDeployKey(key, to: ["acme/app"], label: "again")
            }
            // All or nothing: lib must not get the key when app refuses it.
            await #expect(throws: GatehouseError.keyAlreadyOnRepository("acme/app")) {
                try await gatehouse.addDeployKey(key, to: ["acme/lib", "acme/app"], label: "both")
            }
            #expect(try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/lib").isEmpty)
            let second = try await gatehouse.addDeployKey(key, to: ["acme/lib"], label: "second")
            let first = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            #expect(second[0].id != first[0].id && second[0].label == "second" && first[0].label == "first")
        }
    }

    @Test("only the label can be edited")
    func onlyLabelEditable() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let key = try await gatehouse.key()
            let id = try await gatehouse.addDeployKey(key, to: ["acme/app"], label: "old")[0].id
            let renamed = try await gatehouse.data.keys.renameDeployKey(
                actor: .localOperator, repository: "acme/app", id: id, label: "new", keyText: key.publicKey)
            #expect(renamed.label == "new")
            let other = try await gatehouse.key()
            await #expect(throws: GatehouseError.keyCannotChange) {
                try await gatehouse.data.keys.renameDeployKey(actor: .localOperator, repository: "acme/app", id: id, label: "swap", keyText: other.publicKey)
            }
            let stored = try await gatehouse.data.keys.deployKey(actor: .localOperator, repository: "acme/app", id: id)
            let fingerprint = try await key.fingerprint()
            #expect(stored.label == "new" && stored.key.fingerprint == fingerprint)
            let audit = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 20).map(\.action)
            #expect(audit.contains(.deployKeyAdded) && audit.contains(.deployKeyRenamed))
        }
    }

    @Test(
        "only repository administrators manage deployment keys; others learn nothing",
        arguments: [
            ("admin", AccessLevel.admin, true),
            ("writer", AccessLevel.write, false),
            ("reader", AccessLevel.read, false),
            ("stranger", AccessLevel.none, false),
        ])
    func onlyAdministrators(name: String, level: AccessLevel, allowed: Bool) async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let user = try await gatehouse.user(name)
            if level != .none { try await gatehouse.data.directory.grant(repository: "acme/app", username: name, level: level) }
            let key = try await gatehouse.key()
            let attempt = { try await gatehouse.data.keys.addDeployKey(actor: .user(user), repositories: ["acme/app"], label: "x", keyText: key.publicKey) }
            if allowed {
                let added = try await attempt()
                #expect(added[0].addedBy == name)
            } else {
                let expected: AccessDenial = level == .none ? .notFound("acme/app") : .notAdministrator(repository: "acme/app")
                await #expect(throws: GatehouseError.accessDenied(expected)) { try await attempt() }
                await #expect(throws: GatehouseError.accessDenied(expected)) {
                    try await gatehouse.data.keys.listDeployKeys(actor: .user(user), repository: "acme/app")
                }
            }
        }
    }

    @Test("workspace owners and admins administer every repository in the workspace")
    func workspaceAdmins() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let admin = try await gatehouse.user("ada")
            try await gatehouse.data.directory.setMember(workspace: "acme", username: "ada", role: .admin)
            let key = try await gatehouse.key()
            let added = try await gatehouse.data.keys.addDeployKey(actor: .user(admin), repositories: ["acme/app"], label: "ci", keyText: key.publicKey)
            #expect(added.count == 1)
        }
    }

    @Test("deployment keys take no seat; members beyond the seat limit are refused")
    func seats() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("owner")
            try await gatehouse.workspace("tiny", owner: "owner", seats: 2)
            try await gatehouse.repository("tiny/app")
            for _ in 0..<3 { try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["tiny/app"]) }
            try await gatehouse.user("second")
            try await gatehouse.data.directory.setMember(workspace: "tiny", username: "second", role: .member)
            try await gatehouse.user("third")
            await #expect(throws: GatehouseError.seatLimitReached(workspace: "tiny", limit: 2)) {
                try await gatehouse.data.directory.setMember(workspace: "tiny", username: "third", role: .member)
            }
            #expect(try await gatehouse.data.store.members(workspace: try await gatehouse.data.directory.requireWorkspace("tiny")).count == 2)
        }
    }

    @Test(
        "invalid keys and labels are refused with the key module's reason and nothing is stored",
        arguments: [
            ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "ci", "this is a private key"),
            ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "ci", "DSA"),
            ("ssh-ed25519 !!!!", "ci", "not valid base64"),
            ("", "ci", "The key is empty"),
            ("VALID", "", "The label is empty"),
            ("VALID", String(repeating: "x", count: 101), "longer than 100"),
            ("VALID", "line\nbreak", "control characters"),
        ])
    func invalidInput(keyText: String, label: String, message: String) async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let text = if keyText == "VALID" { try await gatehouse.key().publicKey } else { keyText }
            do {
                _ = try await gatehouse.data.keys.addDeployKey(actor: .localOperator, repositories: ["acme/app"], label: label, keyText: text)
                Issue.record("accepted \(keyText.prefix(20)) / \(label.prefix(20))")
            } catch let error as GatehouseError {
                #expect(error.description.contains(message), "\(error)")
            }
            #expect(try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app").isEmpty)
        }
    }
}
