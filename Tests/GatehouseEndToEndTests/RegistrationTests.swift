import Foundation
import GatehouseCore
import Testing

/// Machines built from scratch register their own key with a registration token, as cloud-init would: real curl,
/// then a real clone with the key.
@Suite("Registration tokens")
struct RegistrationTests {
    @Test("a machine registers its key with curl and clones; the token is then used up, and it never works anywhere else")
    func registerAndClone() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/web-shop", "acme/api"])
            let (_, secret) = try await gatehouse.data.registrations.create(
                actor: .localOperator, workspace: "acme", selector: try RepositorySelector(parsing: "web-*"), uses: 1, lifetime: 3600,
                labelPrefix: "ci-")
            let machine = try await gatehouse.key()
            let path = "/2.0/workspaces/acme/deploy-keys/register"
            let body = #"{"key": "\#(machine.publicKey)", "label": "runner-17"}"#
            let registered = try await gatehouse.api.request("POST", path, auth: .bearer(secret), body: body)
            #expect(registered.status == 200 && registered.json["label"].string == "ci-runner-17", "\(registered)")
            #expect(registered.json["repositories"].array.map(\.string) == ["web-*"])
            #expect(try await gatehouse.git(["clone", "-q", gatehouse.url("acme/web-shop"), gatehouse.scratch("reg").path], keys: [machine]).succeeded)
            #expect(try await !gatehouse.git(["clone", "-q", gatehouse.url("acme/api"), gatehouse.scratch("reg").path], keys: [machine]).succeeded)

            let another = try await gatehouse.key()
            let again = try await gatehouse.api.request("POST", path, auth: .bearer(secret), body: #"{"key": "\#(another.publicKey)", "label": "x"}"#)
            #expect(again.status == 403 && again.json["error"]["message"].string?.contains("used as often as it allows") == true, "\(again)")
            for (method, other) in [("GET", "/2.0/repositories/acme"), ("GET", "/2.0/workspaces/acme/deploy-keys"), ("GET", "/2.0/user")] {
                let refused = try await gatehouse.api.request(method, other, auth: .bearer(secret))
                #expect(
                    refused.status == 401 && refused.json["error"]["message"].string == "A registration token can only register a key.", "\(other): \(refused)")
            }
            let audit = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 20)
            #expect(audit.contains { $0.action == .deployKeyRegistered && $0.sourceIP == "127.0.0.1" && $0.actor.hasPrefix("registration token ") })
        }
    }
}
