import Foundation
import GatehouseCore
import Testing

@Suite("Web interface in a real browser (Chromium via Selenium)")
struct BrowserTests {
    @Test("sign in, add a deployment key in the dialog, clone with it, see the private-key error, edit, delete, 404 for non-admins, sign out")
    func deployKeyFlow() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"], owner: "ada")
            try await gatehouse.user("rita")
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "rita", level: .read)
            for name in ["ada", "rita"] { try await gatehouse.data.sessions.setPassword(username: name, password: "correct horse \(name)") }
            let key = try await gatehouse.key()
            let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("test-artifacts")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Browser/deploy_keys_flow.py").path
            let work = gatehouse.scratch("browser")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let result = try await runCommand(
                "python3",
                [
                    script, "--base", gatehouse.api.base, "--ssh-port", String(gatehouse.port), "--repository", "acme/app",
                    "--admin", "ada:correct horse ada", "--reader", "rita:correct horse rita",
                    "--public-key", key.privateKeyPath + ".pub", "--private-key", key.privateKeyPath,
                    "--artifacts", artifacts.path, "--work", work.path,
                ])
            #expect(result.succeeded && result.stdout.contains("ALL STEPS PASSED"), "\(result)")

            // The page used the same services as the API: audited, and announced by email to the administrators.
            let actions = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 50).filter { $0.actor == "ada" }.map(\.action)
            #expect(actions.contains(.deployKeyAdded) && actions.contains(.deployKeyRenamed) && actions.contains(.deployKeyRemoved), "\(actions)")
            let notices = try await gatehouse.data.store.mail(status: nil, limit: 20).filter { $0.mail.subject.contains("Deployment key \"build server\"") }
            #expect(notices.map(\.mail.to) == ["ada@example.com"])
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("deploy-keys.png").path))
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("add-key-error.png").path))
        }
    }
}
