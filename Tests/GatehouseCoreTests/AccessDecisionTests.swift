import Foundation
import GatehouseCore
import Testing

/// `Operation` also names Foundation's NSOperation; this is Gatehouse's.
typealias RepositoryOperation = GatehouseCore.Operation

enum AccessFixture {
    static let repositoryID = UUID(uuidString: "00000000-0000-0000-0000-0000000000A1")!
    static let otherRepositoryID = UUID(uuidString: "00000000-0000-0000-0000-0000000000A2")!
    /// What the client typed: "not found" echoes it, the other denials name the repository.
    static let requestedPath = "/acme/app.git"
    static let fullName = "acme/app"

    static func repository(isPrivate: Bool) -> Repository {
        Repository(
            id: repositoryID, workspaceID: UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!,
            workspaceSlug: "acme", slug: "app", isPrivate: isPrivate)
    }

    static func account(_ username: String) -> Principal {
        .account(
            User(id: UUID(), username: username, email: "\(username)@example.com", displayName: username),
            key: KeyReference(id: UUID(), fingerprint: "SHA256:\(username)-key"))
    }

    static let deployFingerprint = "SHA256:deploy-key"

    static func deployKey(onRepository id: UUID, fullName: String, access: AccessLevel) -> Principal {
        .deployKey(
            DeployKeyPrincipal(
                keyID: UUID(), fingerprint: deployFingerprint,
                grants: [
                    DeployKeyGrant(
                        attachmentID: 7, label: "ci runner", repositoryID: id,
                        repositoryFullName: fullName, access: access)
                ]))
    }
}

/// One principal on one repository, with the decision expected for each operation.
struct AccessRow: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var principal: Principal
    var grants: AccountGrants
    var isPrivate: Bool
    var read: AccessDecision
    var write: AccessDecision
    var administer: AccessDecision

    var testDescription: String { "\(behaviour) on a \(isPrivate ? "private" : "public") repository" }

    func expected(for operation: RepositoryOperation) -> AccessDecision {
        switch operation {
        case .read: read
        case .write: write
        case .administer: administer
        }
    }

    static var all: [AccessRow] {
        typealias F = AccessFixture
        let notFound = AccessDecision.denied(.notFound(F.requestedPath))
        let notAdministrator = AccessDecision.denied(.notAdministrator(repository: F.fullName))
        func readOnly(_ username: String) -> AccessDecision {
            .denied(.readOnlyAccount(username: username, repository: F.fullName))
        }
        let readOnlyDeployKey = AccessDecision.denied(
            .readOnlyDeployKey(label: "ci runner", fingerprint: F.deployFingerprint, repository: F.fullName))
        let allAdmin = (AccessDecision.allowed(.admin), AccessDecision.allowed(.admin), AccessDecision.allowed(.admin))

        var rows: [AccessRow] = []
        func add(
            _ behaviour: String, _ principal: Principal, _ grants: AccountGrants, isPrivate: Bool,
            _ expected: (AccessDecision, AccessDecision, AccessDecision)
        ) {
            rows.append(
                AccessRow(
                    behaviour: behaviour, principal: principal, grants: grants, isPrivate: isPrivate,
                    read: expected.0, write: expected.1, administer: expected.2))
        }
        for isPrivate in [true, false] {
            add(
                "workspace owner administers every repository", F.account("olivia"),
                AccountGrants(workspaceRole: .owner), isPrivate: isPrivate, allAdmin)
            add(
                "workspace admin administers every repository", F.account("adam"),
                AccountGrants(workspaceRole: .admin), isPrivate: isPrivate, allAdmin)
            add(
                "explicit read permission reads only", F.account("rita"),
                AccountGrants(explicit: .read, workspaceRole: .member), isPrivate: isPrivate,
                (.allowed(.read), readOnly("rita"), notAdministrator))
            add(
                "explicit write permission reads and pushes", F.account("walt"),
                AccountGrants(explicit: .write, workspaceRole: .member), isPrivate: isPrivate,
                (.allowed(.write), .allowed(.write), notAdministrator))
            add(
                "explicit admin permission administers", F.account("ravi"),
                AccountGrants(explicit: .admin), isPrivate: isPrivate, allAdmin)
            add(
                "deployment key attached read-only reads only",
                F.deployKey(
                    onRepository: F.repositoryID, fullName: F.fullName, access: .read),
                AccountGrants(), isPrivate: isPrivate, (.allowed(.read), readOnlyDeployKey, notAdministrator))
            add(
                "deployment key attached with write pushes",
                F.deployKey(
                    onRepository: F.repositoryID, fullName: F.fullName, access: .write),
                AccountGrants(), isPrivate: isPrivate, (.allowed(.write), .allowed(.write), notAdministrator))
            add(
                "deployment key attached only to another repository sees nothing",
                F.deployKey(
                    onRepository: F.otherRepositoryID, fullName: "acme/other", access: .admin),
                AccountGrants(), isPrivate: isPrivate, (notFound, notFound, notFound))
        }
        // Without a grant, visibility alone decides: private hides, public reads.
        add(
            "member without permission", F.account("mia"), AccountGrants(workspaceRole: .member),
            isPrivate: true, (notFound, notFound, notFound))
        add(
            "member without permission", F.account("mia"), AccountGrants(workspaceRole: .member),
            isPrivate: false, (.allowed(.read), readOnly("mia"), notAdministrator))
        add("stranger", F.account("sam"), AccountGrants(), isPrivate: true, (notFound, notFound, notFound))
        add(
            "stranger", F.account("sam"), AccountGrants(), isPrivate: false,
            (.allowed(.read), readOnly("sam"), notAdministrator))
        return rows
    }
}

@Suite("Access decisions")
struct AccessDecisionTests {
    @Test(
        "each principal gets the expected decision for each operation",
        arguments: AccessRow.all, RepositoryOperation.allCases)
    func decision(_ row: AccessRow, _ operation: RepositoryOperation) {
        let decision = Access.decide(
            row.principal, operation: operation, on: AccessFixture.repository(isPrivate: row.isPrivate),
            requestedPath: AccessFixture.requestedPath, accountGrants: row.grants)
        #expect(decision == row.expected(for: operation))
    }

    @Test(
        "a missing repository is not found, echoing the requested path, for every principal",
        arguments: AccessRow.all, RepositoryOperation.allCases)
    func missingRepository(_ row: AccessRow, _ operation: RepositoryOperation) {
        let decision = Access.decide(
            row.principal, operation: operation, on: nil, requestedPath: "ghost/missing.git", accountGrants: row.grants)
        #expect(decision == .denied(.notFound("ghost/missing.git")))
    }

    @Test(
        "a stranger on a private repository is told exactly what a missing repository gives",
        arguments: RepositoryOperation.allCases)
    func privateRepositoryDoesNotLeakExistence(_ operation: RepositoryOperation) {
        let stranger = AccessFixture.account("sam")
        let hidden = Access.decide(
            stranger, operation: operation, on: AccessFixture.repository(isPrivate: true),
            requestedPath: AccessFixture.requestedPath)
        let missing = Access.decide(stranger, operation: operation, on: nil, requestedPath: AccessFixture.requestedPath)
        #expect(hidden == missing)
        guard case .denied(let hiddenDenial) = hidden, case .denied(let missingDenial) = missing else {
            Issue.record("expected both to be denied: \(hidden), \(missing)")
            return
        }
        #expect(hiddenDenial.description == missingDenial.description)
    }

    @Test(
        "each operation requires its level",
        arguments: zip(
            [RepositoryOperation.read, .write, .administer], [AccessLevel.read, .write, .admin]))
    func requiredLevel(_ operation: RepositoryOperation, _ level: AccessLevel) {
        #expect(operation.requiredLevel == level)
    }
}
