import GatehouseCore
import Testing

@Suite("Values kept while the data is unchanged")
struct DataVersionCacheTests {
    /// A value is stored under "a" at version 1; then one lookup.
    struct Lookup: Sendable, CustomTestStringConvertible {
        var behaviour: String
        var key: String
        var version: UInt64
        var expected: Int?
        var testDescription: String { behaviour }
    }

    static let lookups: [Lookup] = [
        Lookup(behaviour: "the same key at the same version is served", key: "a", version: 1, expected: 10),
        Lookup(behaviour: "another key is not", key: "b", version: 1, expected: nil),
        Lookup(behaviour: "after any commit (a new version) nothing is served", key: "a", version: 2, expected: nil),
        Lookup(behaviour: "nor at an older version", key: "a", version: 0, expected: nil),
    ]

    @Test("a value is served only at the version it was computed at", arguments: lookups)
    func lookup(_ row: Lookup) {
        let cache = DataVersionCache<String, Int>(capacity: 10)
        cache.store(10, for: "a", at: 1)
        #expect(cache.value(for: row.key, at: row.version) == row.expected)
    }

    @Test("storing at a new version drops every value of the old one")
    func newVersionDropsOld() {
        let cache = DataVersionCache<String, Int>(capacity: 10)
        cache.store(10, for: "a", at: 1)
        cache.store(20, for: "b", at: 2)
        #expect(cache.count == 1)
        #expect(cache.value(for: "a", at: 1) == nil && cache.value(for: "b", at: 2) == 20)
    }

    @Test("a value computed at an older version is not kept, and does not push out the newer ones")
    func olderVersionIgnored() {
        let cache = DataVersionCache<String, Int>(capacity: 10)
        cache.store(20, for: "b", at: 2)
        cache.store(10, for: "a", at: 1)
        #expect(cache.value(for: "b", at: 2) == 20 && cache.value(for: "a", at: 1) == nil && cache.count == 1)
    }

    @Test("a full cache starts over rather than grow past its capacity")
    func capacityBound() {
        let cache = DataVersionCache<Int, Int>(capacity: 3)
        for key in 0..<7 { cache.store(key, for: key, at: 1) }
        #expect(cache.count <= 3)
        #expect(cache.value(for: 6, at: 1) == 6)
    }

    @Test("without a version every call computes and nothing is kept; nor is a nil result")
    func noVersionNoCaching() async throws {
        let cache = DataVersionCache<String, Int>(capacity: 10)
        var calls = 0
        for _ in 0..<3 {
            _ = try await cache.value(for: "a", at: nil) {
                calls += 1
                return calls
            }
        }
        #expect(calls == 3 && cache.count == 0)
        for _ in 0..<3 {
            _ = try await cache.value(for: "a", at: 5) {
                calls += 1
                return calls
            }
        }
        #expect(calls == 4, "with a version, the first call computes and the rest are served")
        for _ in 0..<2 {
            #expect(
                try await cache.value(for: "unknown", at: 5) {
                    calls += 1
                    return nil
                } == nil)
        }
        #expect(calls == 6 && cache.value(for: "unknown", at: 5) == nil, "an unknown key is asked again every time")
    }
}
