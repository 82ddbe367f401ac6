import Foundation

/// When a key stops working, as people write it: a day (`2027-03-31`, the end of that day UTC), a time
/// (`2027-03-31T12:00:00Z`), or a lifetime from now (`90d`, `12h`).
public enum ExpiryDate {
    public static func parse(_ text: String, now: Date = Date()) throws(GatehouseError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: TimeInterval] = ["h": 3600, "d": 86_400]
        let century: TimeInterval = 100 * 366 * 86_400
        if let unit = trimmed.last, let scale = units[unit], let count = Double(trimmed.dropLast()), count > 0, count * scale <= century {
            return now.addingTimeInterval(count * scale)
        }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let parsed = ISO8601DateFormatter().date(from: trimmed) ?? day.date(from: trimmed).map { $0.addingTimeInterval(86_399) }
        if let parsed, parsed.timeIntervalSince(now) <= century { return parsed }
        throw .invalidArgument("\"\(text)\" is not an expiry. Give a day (2027-03-31), a time (2027-03-31T12:00:00Z) or a lifetime (90d, 12h).")
    }
}
