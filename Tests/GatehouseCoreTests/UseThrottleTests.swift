import Foundation
import GatehouseCore
import Testing

@Suite("When a key's or token's use is written again")
struct UseThrottleTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var behaviour: String
        /// Seconds since 1970 (UTC) of the use already recorded, nil for none.
        var recorded: TimeInterval?
        var now: TimeInterval
        var records: Bool
        var testDescription: String { behaviour }
    }

    static let midnight: TimeInterval = 1_795_996_800  // 2026-11-30T00:00:00Z

    static let rows: [Row] = [
        Row(behaviour: "a key never recorded is recorded", recorded: nil, now: midnight + 3600, records: true),
        Row(behaviour: "a use 30 s after the last one is not", recorded: midnight + 3600, now: midnight + 3630, records: false),
        Row(behaviour: "a use 61 s after the last one is", recorded: midnight + 3600, now: midnight + 3661, records: true),
        Row(behaviour: "the day's first use is, however soon after yesterday's last", recorded: midnight - 10, now: midnight + 5, records: true),
        Row(behaviour: "a use just before midnight after one a moment earlier is not", recorded: midnight - 30, now: midnight - 1, records: false),
    ]

    @Test("at most once a minute, and always on the first use of a UTC day", arguments: rows)
    func throttle(_ row: Row) {
        let throttle = UseThrottle<Int>(interval: 60)
        if let recorded = row.recorded { _ = throttle.shouldRecord(1, at: Date(timeIntervalSince1970: recorded)) }
        #expect(throttle.shouldRecord(1, at: Date(timeIntervalSince1970: row.now)) == row.records)
    }

    @Test("the cutoff the database applies is the same: a minute ago, or midnight if that is later")
    func cutoff() {
        let throttle = UseThrottle<Int>(interval: 60)
        #expect(throttle.cutoff(at: Date(timeIntervalSince1970: Self.midnight + 3600)) == Date(timeIntervalSince1970: Self.midnight + 3540))
        #expect(throttle.cutoff(at: Date(timeIntervalSince1970: Self.midnight + 5)) == Date(timeIntervalSince1970: Self.midnight))
    }
}
