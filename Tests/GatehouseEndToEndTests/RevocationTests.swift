import Foundation
import GatehouseCore
import Testing

/// Issue 12, finding 1: what a key may do is decided for every session, and again while git runs.
@Suite("Access withdrawn while connected")
struct RevocationTests {
    @Test("a key removed while its connection stays open (ControlMaster) opens no new session", arguments: FrontEnd.allCases)
    func removedKeyOnOpenConnection(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            let added = try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            try await gatehouse.withControlMaster(deployKey) { socket in
                let before = try await gatehouse.advertisement("acme/app", key: deployKey, options: TestGatehouse.through(socket))
                #expect(before.succeeded, "\(before)")
                #expect(before.stdout.contains("refs/heads/main"))

                try await gatehouse.data.keys.removeDeployKey(actor: .localOperator, repository: "acme/app", id: added[0].id)
                #expect(try await gatehouse.controlMaster(socket, "check").succeeded, "the connection itself stays up")
                let after = try await gatehouse.advertisement("acme/app", key: deployKey, options: TestGatehouse.through(socket))
                #expect(!after.succeeded)
                #expect(!after.stdout.contains("refs/heads/main"), "\(after)")
                #expect(after.stderr.contains("no longer registered"), "\(after)")
            }
        }
    }

    /// How access to acme/app is taken away from a deployment key that reaches acme/app and acme/lib.
    enum Withdrawal: String, CaseIterable, CustomTestStringConvertible {
        case keyRemoved = "the key is removed everywhere"
        case detachedFromRepository = "the key is detached from this repository only"

        var testDescription: String { rawValue }

        var message: String {
            switch self {
            case .keyRemoved: "This key was removed from Gatehouse while the session ran"
            case .detachedFromRepository: "Access changed while the session ran"
            }
        }
    }

    @Test(
        "a running git session ends within a second when access is withdrawn; the key's other sessions go on", arguments: FrontEnd.allCases, Withdrawal.allCases
    )
    func runningSessionEnds(frontEnd: FrontEnd, withdrawal: Withdrawal) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let deployKey = try await gatehouse.key()
            let onApp = try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let onLib = try await gatehouse.addDeployKey(deployKey, to: ["acme/lib"])
            let app = try await gatehouse.heldUploadPack("acme/app", key: deployKey, seconds: 30)
            let untouched = try await gatehouse.heldUploadPack("acme/lib", key: deployKey, seconds: 20)

            let started = ContinuousClock.now
            // Removing the key everywhere: acme/lib's attachment first, so that the key itself goes with acme/app's.
            if withdrawal == .keyRemoved {
                try await gatehouse.data.keys.removeDeployKey(actor: .localOperator, repository: "acme/lib", id: onLib[0].id)
            }
            try await gatehouse.data.keys.removeDeployKey(actor: .localOperator, repository: "acme/app", id: onApp[0].id)
            let ended = try await app.value
            let waited = ContinuousClock.now - started
            #expect(!ended.succeeded)
            #expect(ended.stderr.contains(withdrawal.message), "\(ended)")
            // The session would otherwise have lasted 30 s; the watcher looks every 250 ms.
            #expect(waited < .seconds(5), "ended after \(waited)")
            #expect(try await gatehouse.gitProcesses("acme/app") == 0)

            if withdrawal == .detachedFromRepository {
                #expect(try await gatehouse.gitProcesses("acme/lib") == 1, "the session on acme/lib still runs")
            }
            let other = try await untouched.value
            if withdrawal == .detachedFromRepository {
                #expect(other.succeeded, "the key still reaches acme/lib: \(other)")
                #expect(!other.stderr.contains("ERROR"), "\(other)")
            } else {
                #expect(other.stderr.contains("while the session ran"), "\(other)")
            }
        }
    }
}
