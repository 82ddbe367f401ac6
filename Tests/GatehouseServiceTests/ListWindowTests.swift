import Foundation
import GatehouseCore
import Testing

/// Lists are cut in the database: each window holds the items of that stretch of the whole list, in its order, and
/// the total is the whole list's length (issue 13).
@Suite("Lists in windows")
struct ListWindowTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var behaviour: String
        var window: ListWindow
        /// Positions in the whole list (0-based) the window holds.
        var expected: Range<Int>
        var testDescription: String { behaviour }
    }

    static let length = 7
    static let cases: [Case] = [
        Case(behaviour: "the first window", window: ListWindow(offset: 0, limit: 3), expected: 0..<3),
        Case(behaviour: "a window in the middle", window: ListWindow(offset: 3, limit: 3), expected: 3..<6),
        Case(behaviour: "the last window is short", window: ListWindow(offset: 6, limit: 3), expected: 6..<7),
        Case(behaviour: "a window past the end is empty", window: ListWindow(offset: 9, limit: 3), expected: 7..<7),
        Case(behaviour: "a window longer than the list holds all of it", window: ListWindow(offset: 0, limit: 100), expected: 0..<7),
        Case(behaviour: "an empty window is empty", window: ListWindow(offset: 2, limit: 0), expected: 2..<2),
    ]

    /// A list of keys as a caller pages it: how to fill it with `length` keys labelled "key 0"… (plus one elsewhere
    /// that must never show), and how to read one window of it.
    struct KeyList: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var fill: @Sendable (Acme, KeyService) async throws -> Void
        var list: @Sendable (Acme, KeyService, ListWindow) async throws -> ListPage<String>
    }

    static let keyLists: [KeyList] = [
        KeyList(
            testDescription: "a repository's deployment keys, by id",
            fill: { acme, keys in
                for index in 0..<length {
                    _ = try await keys.addDeployKey(
                        actor: .user(acme.olivia), repositories: ["acme/app"], label: "key \(index)", keyText: TestKey.random().line)
                }
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/tools"], label: "other", keyText: TestKey.random().line)
            },
            list: { acme, keys, window in
                labels(try await keys.listDeployKeys(actor: .user(acme.olivia), repository: "acme/app", window: window)) { $0.label }
            }),
        KeyList(
            testDescription: "a workspace's deployment keys, by id",
            fill: { acme, keys in
                for index in 0..<length {
                    _ = try await keys.addWorkspaceDeployKey(
                        actor: .user(acme.olivia), workspace: "acme", label: "key \(index)", keyText: TestKey.random().line,
                        selector: try RepositorySelector(parsing: "all"))
                }
            },
            list: { acme, keys, window in
                labels(try await keys.listWorkspaceDeployKeys(actor: .user(acme.olivia), workspace: "acme", window: window)) { $0.label }
            }),
        KeyList(
            testDescription: "an account's keys, oldest first",
            fill: { acme, keys in
                for index in 0..<length {
                    _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "key \(index)", keyText: TestKey.random().line)
                }
                _ = try await keys.addAccountKey(actor: .user(acme.adam), username: "adam", label: "other", keyText: TestKey.random().line)
            },
            list: { acme, keys, window in
                labels(try await keys.listAccountKeys(actor: .user(acme.rita), username: "rita", window: window).1) { $0.label ?? "" }
            }),
    ]

    static func labels<Item>(_ page: ListPage<Item>, _ label: (Item) -> String) -> ListPage<String> {
        ListPage(items: page.items.map(label), total: page.total, hasMore: page.hasMore)
    }

    @Test("each list of keys holds in each window that stretch of the whole list, and its whole length", arguments: keyLists, cases)
    func keys(_ keyList: KeyList, _ example: Case) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            try await keyList.fill(acme, keys)
            let page = try await keyList.list(acme, keys, example.window)
            #expect(page.items == example.expected.map { "key \($0)" })
            #expect(page.total == Self.length)
        }
    }

    @Test("who may not see a list is refused before any window is read, whatever the window")
    func refusedFirst() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            for window in [ListWindow(offset: 0, limit: 10), ListWindow(offset: 1_000_000, limit: 0)] {
                await #expect(throws: GatehouseError.self) {
                    _ = try await keys.listDeployKeys(actor: .user(acme.sam), repository: "acme/app", window: window)
                }
            }
        }
    }

    @Test(
        "a workspace's repositories, by slug: cut in the database for whoever reads them all by role, decided one by one for whoever reads only some",
        arguments: cases)
    func repositories(_ example: Case) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            // acme/app, acme/site and acme/tools exist; four more, two of them public.
            for (slug, isPrivate) in [("r1", true), ("r2", false), ("r3", true), ("r4", false)] {
                _ = try await acme.directory.createRepository("acme/\(slug)", isPrivate: isPrivate)
            }
            let everyone = ["acme/app", "acme/r1", "acme/r2", "acme/r3", "acme/r4", "acme/site", "acme/tools"]
            let publicOnly = ["acme/r2", "acme/r4", "acme/site"]
            for (actor, visible) in [(Actor.user(acme.olivia), everyone), (.user(acme.sam), publicOnly), (.anonymous, publicOnly)] {
                let page = try await acme.directory.visibleRepositories(actor: actor, workspace: "acme", window: example.window)
                let expected = Array(visible.dropFirst(example.window.offset).prefix(example.window.limit))
                #expect(page.items.map(\.fullName) == expected, "\(actor.auditName)")
                #expect(page.total == visible.count, "\(actor.auditName)")
            }
        }
    }

    @Test("a count stops at its limit, so that counting a very long list costs no more than the limit")
    func countStopsAtLimit() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            for index in 0..<Self.length {
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "key \(index)", keyText: TestKey.random().line)
            }
            for (limit, counted) in [(3, 3), (7, 7), (100, 7)] {
                #expect(try await store.keys.deployKeyCount(.repository(acme.app.id), upTo: limit, on: store.db) == counted, "up to \(limit)")
            }
        }
    }

    @Test(
        "a page knows whether more follow from one item more than it shows, and has no total when the list is longer than ListPage.countLimit",
        arguments: [
            (loaded: [1, 2, 3, 4], counted: 10, items: [1, 2, 3], total: Optional(10), hasMore: true),
            (loaded: [1, 2, 3], counted: 3, items: [1, 2, 3], total: 3, hasMore: false),
            (loaded: [1, 2], counted: 2, items: [1, 2], total: 2, hasMore: false),
            (loaded: [1, 2, 3, 4], counted: 10_001, items: [1, 2, 3], total: nil, hasMore: true),
            (loaded: [], counted: 0, items: [], total: 0, hasMore: false),
        ])
    func pageFromLoaded(loaded: [Int], counted: Int, items: [Int], total: Int?, hasMore: Bool) {
        let page = ListPage(ListWindow(offset: 0, limit: 3), loaded: loaded, counted: counted)
        #expect(page.items == items && page.total == total && page.hasMore == hasMore)
    }

    @Test("a window with a cursor starts after that id, whatever its offset, and the same holds for a workspace's keys")
    func cursor() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            var ids: [Int] = []
            for index in 0..<Self.length {
                let added = try await keys.addDeployKey(
                    actor: .user(acme.olivia), repositories: ["acme/app"], label: "key \(index)", keyText: TestKey.random().line)
                ids.append(added[0].id)
            }
            let page = try await keys.listDeployKeys(actor: .user(acme.olivia), repository: "acme/app", window: ListWindow(offset: 5, limit: 3, after: ids[1]))
            #expect(page.items.map(\.label) == ["key 2", "key 3", "key 4"] && page.hasMore)
            let last = try await keys.listDeployKeys(actor: .user(acme.olivia), repository: "acme/app", window: ListWindow(offset: 0, limit: 3, after: ids[5]))
            #expect(last.items.map(\.label) == ["key 6"] && !last.hasMore)

            var workspaceIDs: [Int] = []
            for index in 0..<4 {
                workspaceIDs.append(
                    try await keys.addWorkspaceDeployKey(
                        actor: .user(acme.olivia), workspace: "acme", label: "w\(index)", keyText: TestKey.random().line,
                        selector: try RepositorySelector(parsing: "all")
                    ).id)
            }
            let workspacePage = try await keys.listWorkspaceDeployKeys(
                actor: .user(acme.olivia), workspace: "acme", window: ListWindow(offset: 0, limit: 2, after: workspaceIDs[0]))
            #expect(workspacePage.items.map(\.label) == ["w1", "w2"] && workspacePage.hasMore)
        }
    }
}
