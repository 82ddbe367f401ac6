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
            // Long enough for the first command even on a busy machine; the second waits until it has passed.
            let expiry = Date().addingTimeInterval(15)
            _ = try await gatehouse.data.keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "jenkins", keyText: key.publicKey, expiresAt: expiry)
            let soon = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [key])
            #expect(soon.succeeded && soon.stderr.contains("warning: this deployment key expires on "), "\(soon)")
            try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 1))
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
