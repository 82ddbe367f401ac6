import Foundation

/// The outcome of recording a key's use.
public struct KeyUseUpdate: Sendable, Equatable {
    public var written: Bool
    public var previous: Date?

    public init(written: Bool, previous: Date?) {
        self.written = written
        self.previous = previous
    }

    /// Whether this was the key's first use on `date`'s UTC day.
    public func isFirstUseOfDay(_ date: Date) -> Bool {
        guard written else { return false }
        guard let previous else { return true }
        return ExpiryDate.startOfUTCDay(previous) != ExpiryDate.startOfUTCDay(date)
    }
}
