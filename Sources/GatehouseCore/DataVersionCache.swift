import Synchronization

/// Values computed from the stored data, kept only while the data is unchanged.
///
/// The store's data version (`Store.dataVersion()`) changes whenever any connection — this process's, the
/// CLI's, another node's — commits a change. An entry is served only at the version it was computed at, so a
/// revoked token or a removed key is seen on the very next request; nothing is stale for a moment. Callers read
/// the version *before* computing a value: a commit landing meanwhile then only makes the entry unreachable.
public final class DataVersionCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entries {
        var version: UInt64?
        var values: [Key: Value] = [:]
    }

    private let entries = Mutex(Entries())
    /// At most this many values; when full, everything is dropped (the data usually changes sooner).
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value stored for `key` at exactly `version`.
    public func value(for key: Key, at version: UInt64) -> Value? {
        entries.withLock { $0.version == version ? $0.values[key] : nil }
    }

    /// Keeps `value`, computed from the data at `version`; values of any other version are dropped.
    public func store(_ value: Value, for key: Key, at version: UInt64) {
        entries.withLock { entries in
            // Versions only grow: a slow request that computed at an older one has nothing worth keeping.
            if let current = entries.version, version < current { return }
            if entries.version != version || entries.values.count >= capacity {
                entries = Entries(version: version)
            }
            entries.values[key] = value
        }
    }

    /// The cached value, or `compute`'s, which is kept when it is not nil and `version` is known.
    /// Without a version (a store that cannot tell cheaply) nothing is kept.
    public func value(for key: Key, at version: UInt64?, compute: () async throws -> Value?) async throws -> Value? {
        guard let version else { return try await compute() }
        if let cached = value(for: key, at: version) { return cached }
        guard let value = try await compute() else { return nil }
        store(value, for: key, at: version)
        return value
    }

    public var count: Int { entries.withLock { $0.values.count } }
}
