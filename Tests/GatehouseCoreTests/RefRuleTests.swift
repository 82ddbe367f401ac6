import Foundation
import GatehouseCore
import Testing

@Suite("Ref rules: patterns, operations and the push check")
struct RefRuleTests {
    struct Match: Sendable, CustomTestStringConvertible {
        var pattern: String
        var ref: String
        var matches: Bool
        var testDescription: String { "\(pattern) \(matches ? "matches" : "does not match") \(ref)" }
    }

    static let matches: [Match] = [
        Match(pattern: "refs/tags/v*", ref: "refs/tags/v1.0", matches: true),
        Match(pattern: "refs/tags/v*", ref: "refs/tags/v", matches: true),
        Match(pattern: "refs/tags/v*", ref: "refs/tags/release", matches: false),
        Match(pattern: "refs/tags/v*", ref: "refs/tags/v1/extra", matches: false),
        Match(pattern: "refs/tags/v*", ref: "refs/heads/v1", matches: false),
        Match(pattern: "refs/heads/release/**", ref: "refs/heads/release/2026/q4", matches: true),
        Match(pattern: "refs/heads/release/**", ref: "refs/heads/release/x", matches: true),
        Match(pattern: "refs/heads/release/**", ref: "refs/heads/releases/x", matches: false),
        Match(pattern: "refs/heads/main", ref: "refs/heads/main", matches: true),
        Match(pattern: "refs/heads/main", ref: "refs/heads/main2", matches: false),
        Match(pattern: "refs/heads/main", ref: "refs/heads/mai", matches: false),
        Match(pattern: "refs/*/main", ref: "refs/heads/main", matches: true),
        Match(pattern: "refs/*/main", ref: "refs/heads/x/main", matches: false),
        Match(pattern: "refs/**/main", ref: "refs/heads/x/main", matches: true),
        Match(pattern: "refs/tags/*-rc*", ref: "refs/tags/v2-rc1", matches: true),
        Match(pattern: "refs/tags/*-rc*", ref: "refs/tags/v2", matches: false),
    ]

    @Test("patterns match whole ref names: * within a segment, ** across segments", arguments: matches)
    func matching(_ row: Match) {
        #expect(RefRule.matches(pattern: row.pattern, ref: row.ref) == row.matches)
    }

    static let refused: [(text: String, says: String)] = [
        ("v*", "write refs/tags/v* for tags or refs/heads/v* for branches"),
        ("tags/v*", "refs/tags/tags/v*"),
        ("refs/tags/v*:push", "is not an operation"),
        ("refs/heads/a b", "is not a valid ref pattern"),
        ("refs/heads/../x", "is not a valid ref pattern"),
        ("refs/heads/", "is not a valid ref pattern"),
        ("refs/heads/x;y", "is not a valid ref pattern"),
    ]

    @Test("a pattern that is not a full ref name, or an unknown operation, is refused saying what to write", arguments: refused)
    func refusedPatterns(_ row: (text: String, says: String)) {
        #expect {
            _ = try RefRule(parsing: row.text)
        } throws: { error in
            (error as? GatehouseError)?.description.contains(row.says) == true
        }
    }

    @Test("without operations a rule allows create and update; the stored form reads back the same")
    func defaultsAndStorage() throws {
        let rule = try RefRule(parsing: "refs/tags/v*")
        #expect(rule.operations == [.create, .update])
        let rules = [rule, try RefRule(parsing: "refs/heads/release/**:force,create")]
        #expect(StoredRefRules.rules(StoredRefRules.column(rules)) == rules)
        #expect(StoredRefRules.column([]) == nil)
    }

    @Test("a write-enabled permission needs a rule, and rules need write")
    func permissions() throws {
        #expect(throws: GatehouseError.self) { _ = try KeyPermission(access: .write, rules: []) }
        #expect(throws: GatehouseError.self) { _ = try KeyPermission(access: .read, rules: [try RefRule(parsing: "refs/tags/v*")]) }
        #expect(throws: GatehouseError.self) { _ = try KeyPermission(access: .admin, rules: []) }
        #expect(try KeyPermission(access: .read, rules: []) == .readOnly)
    }

    static let repository = Repository(
        id: UUID(), workspaceID: UUID(), workspaceSlug: "acme", slug: "app", isPrivate: true)

    static func key(rules: [String], writeAllowed: Bool = true) throws -> DeployKeyPrincipal {
        DeployKeyPrincipal(
            keyID: UUID(), fingerprint: "SHA256:k",
            grants: [
                DeployKeyGrant(
                    attachment: .repository(1), label: "jenkins", scope: .repository(id: repository.id, fullName: "acme/app"), access: .write,
                    refRules: try rules.map { try RefRule(parsing: $0) }, writeAllowedByWorkspace: writeAllowed)
            ])
    }

    struct Push: Sendable, CustomTestStringConvertible {
        var rules: [String]
        var updates: [RefUpdate]
        var refused: [String]
        var testDescription: String { "\(rules) pushing \(updates.map { "\($0.ref) (\($0.operation))" }): \(refused.isEmpty ? "allowed" : "refused")" }
    }

    static let pushes: [Push] = [
        Push(rules: ["refs/tags/v*:create"], updates: [RefUpdate(ref: "refs/tags/v1.0", operation: .create)], refused: []),
        Push(rules: ["refs/tags/v*:create"], updates: [RefUpdate(ref: "refs/heads/main", operation: .update)], refused: ["refs/heads/main"]),
        Push(rules: ["refs/tags/v*:create"], updates: [RefUpdate(ref: "refs/tags/v1.0", operation: .delete)], refused: ["refs/tags/v1.0"]),
        Push(rules: ["refs/tags/v*:create"], updates: [RefUpdate(ref: "refs/tags/v1.0", operation: .force)], refused: ["refs/tags/v1.0"]),
        Push(
            rules: ["refs/tags/v*:create"],
            updates: [RefUpdate(ref: "refs/tags/v2", operation: .create), RefUpdate(ref: "refs/heads/main", operation: .update)],
            refused: ["refs/heads/main"]),
        Push(rules: ["refs/heads/release/**"], updates: [RefUpdate(ref: "refs/heads/release/2026/q4", operation: .update)], refused: []),
        Push(
            rules: ["refs/heads/release/**"], updates: [RefUpdate(ref: "refs/heads/release/2026/q4", operation: .force)],
            refused: ["refs/heads/release/2026/q4"]),
        Push(
            rules: ["refs/heads/release/**:create,update,force", "refs/tags/*:delete"],
            updates: [RefUpdate(ref: "refs/heads/release/x", operation: .force), RefUpdate(ref: "refs/tags/old", operation: .delete)], refused: []),
    ]

    @Test("every ref of a push must be allowed by a rule, else the whole push is refused naming each refused ref", arguments: pushes)
    func pushCheck(_ row: Push) throws {
        let denial = Access.checkPush(try Self.key(rules: row.rules), to: Self.repository, updates: row.updates)
        guard case .refsRefused(let label, _, let refused) = denial else {
            #expect(row.refused.isEmpty && denial == nil, "expected \(row.refused.isEmpty ? "no" : "a") refusal, got \(String(describing: denial))")
            return
        }
        #expect(label == "jenkins")
        #expect(refused.map(\.ref) == row.refused)
    }

    @Test("the refusal says what the key may do and which refs were refused")
    func refusalMessage() throws {
        let denial = Access.checkPush(
            try Self.key(rules: ["refs/tags/v*:create"]), to: Self.repository, updates: [RefUpdate(ref: "refs/heads/main", operation: .update)])
        #expect(denial?.description == "deployment key 'jenkins' may create refs/tags/v* only; refs/heads/main (update) refused.")
    }

    @Test("a write grant decides push, and acts read-only when the workspace's policy is off")
    func writeDecision() throws {
        let allowed = Access.decide(.deployKey(try Self.key(rules: ["refs/tags/v*"])), operation: .write, on: Self.repository, requestedPath: "acme/app")
        #expect(allowed == .allowed(.write))
        let off = Access.decide(
            .deployKey(try Self.key(rules: ["refs/tags/v*"], writeAllowed: false)), operation: .write, on: Self.repository, requestedPath: "acme/app")
        #expect(off == .denied(.writeDisabledByWorkspace(label: "jenkins", workspace: "acme")))
        let read = Access.decide(
            .deployKey(try Self.key(rules: ["refs/tags/v*"], writeAllowed: false)), operation: .read, on: Self.repository, requestedPath: "acme/app")
        #expect(read == .allowed(.read))
    }

    @Test("a workspace grant covers the repositories its selector names, and no other workspace's")
    func workspaceGrants() throws {
        let selector = try RepositorySelector(parsing: "web-*,api")
        let workspace = UUID()
        let grant = DeployKeyGrant(
            attachment: .workspace(1), label: "fleet", scope: .workspace(id: workspace, slug: "acme", selector: selector), access: .read)
        func repository(_ slug: String, in id: UUID = workspace) -> Repository {
            Repository(id: UUID(), workspaceID: id, workspaceSlug: "acme", slug: slug, isPrivate: true)
        }
        #expect(grant.scope.covers(repository("web-shop")))
        #expect(grant.scope.covers(repository("api")))
        #expect(!grant.scope.covers(repository("apis")))
        #expect(!grant.scope.covers(repository("web-shop", in: UUID())))
        #expect(try RepositorySelector(parsing: "all") == .all)
        #expect(throws: GatehouseError.self) { _ = try RepositorySelector(parsing: "../x") }
        #expect(throws: GatehouseError.self) { _ = try RepositorySelector(parsing: "") }
        #expect(throws: GatehouseError.self) { _ = try RepositorySelector(parsing: "all,web-*") }
        // Many stars against a long name: answered at once, without backtracking.
        let name = "refs/heads/" + String(repeating: "a", count: 3000) + "b"
        #expect(!RefRule.matches(pattern: "refs/heads/" + String(repeating: "*a", count: 40) + "c", ref: name))
    }
}
