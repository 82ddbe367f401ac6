import Foundation
import Synchronization

/// Remembers when this process last recorded a credential's use, so that busy callers skip the database
/// write in between. The database keeps its own throttle too, which holds across processes and nodes.
public final class UseThrottle<Key: Hashable & Sendable>: Sendable {
    private let recorded = Mutex<[Key: Date]>([:])
    public let interval: TimeInterval

    public init(interval: TimeInterval) {
        self.interval = interval
    }

    /// True at most once per `interval` for each id.
    public func shouldRecord(_ id: Key, at now: Date) -> Bool {
        recorded.withLock { recorded in
            if let last = recorded[id], now.timeIntervalSince(last) < interval { return false }
            recorded[id] = now
            return true
        }
    }
}
