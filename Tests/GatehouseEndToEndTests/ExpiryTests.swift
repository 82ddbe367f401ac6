import Foundation
import GatehouseCore
import Testing

@Suite("Key expiry over SSH")
struct KeyExpiryTests {
    @Test(
        "an expired deployment key: the built-in server says when it expired and what to do; sshd is given no line for it",
        arguments: FrontEnd.allCases)
    func expiredKey(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let key = try await gatehouse.key()
            _ = try await gatehouse.data.keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "jenkins", keyText: key.publicKey, expiresAt: Date().addingTimeInterval(2))
            let soon = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [key])
            #expect(soon.succeeded && soon.stderr.contains("warning: this deployment key expires on "), "\(soon)")
            try await Task.sleep(for: .seconds(3))
            let refused = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [key])
            #expect(!refused.succeeded, "\(refused)")
            switch frontEnd {
            case .builtIn:
                #expect(
                    refused.stderr.contains("ERROR: the deployment key 'jenkins' expired on ") && refused.stderr.contains("ask an administrator of acme/app"),
                    "\(refused)")
            case .openSSH:
                #expect(refused.stderr.contains("Permission denied"), "\(refused)")
            }
        }
    }
}
