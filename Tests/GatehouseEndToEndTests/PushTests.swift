import Foundation
import Testing

@Suite("Writing")
struct PushTests {
    @Test("a deployment key's push is refused, says why, and changes nothing", arguments: FrontEnd.allCases)
    func deployKeyPushRefused(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"], label: "jenkins")
            let before = try await gatehouse.refs(of: "acme/app")
            let push = try await gatehouse.pushCommit(to: "acme/app", with: deployKey, file: "evil", content: "x")
            #expect(!push.succeeded)
            #expect(push.stderr.contains("read-only"), "\(push)")
            #expect(push.stderr.contains("jenkins") && push.stderr.contains("acme/app"), "\(push)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)
            let audit = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 10)
            #expect(audit.contains { $0.action == .pushDenied && $0.object == "acme/app" && $0.sourceIP == "127.0.0.1" })
        }
    }

    @Test("an account key with write permission pushes", arguments: FrontEnd.allCases)
    func writerPushes(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.user("wanda")
            let key = try await gatehouse.key("ecdsa", bits: 256)
            try await gatehouse.addAccountKey(key, user: "wanda")
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "wanda", level: .write)
            let before = try await gatehouse.refs(of: "acme/app")
            let push = try await gatehouse.pushCommit(to: "acme/app", with: key, file: "feature", content: "y")
            #expect(push.succeeded, "\(push)")
            #expect(try await gatehouse.refs(of: "acme/app") != before)
        }
    }

    @Test("an account key with read permission cannot push", arguments: FrontEnd.allCases)
    func readerCannotPush(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.user("rita")
            let key = try await gatehouse.key()
            try await gatehouse.addAccountKey(key, user: "rita")
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "rita", level: .read)
            let before = try await gatehouse.refs(of: "acme/app")
            let push = try await gatehouse.pushCommit(to: "acme/app", with: key, file: "nope", content: "z")
            #expect(!push.succeeded)
            #expect(push.stderr.contains("rita has read access to acme/app, not write"), "\(push)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)
        }
    }
}
