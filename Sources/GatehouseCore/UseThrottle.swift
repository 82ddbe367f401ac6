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

    /// Uses recorded since this moment need not be recorded again at `now`: one `interval` ago, or the start
    /// of the UTC day if that is later, so that each day's first use is always written (the daily audit entry
    /// depends on it). The database applies the same cutoff, which holds across processes and nodes.
    public func cutoff(at now: Date) -> Date {
        max(now.addingTimeInterval(-interval), ExpiryDate.startOfUTCDay(now))
    }

    /// True at most once per `interval` for each id, and on each day's first use.
    public func shouldRecord(_ id: Key, at now: Date) -> Bool {
        recorded.withLock { recorded in
            if let last = recorded[id], last >= cutoff(at: now) { return false }
            recorded[id] = now
            return true
        }
    }
}
