import Foundation

/// When a key stops working, as people write it: a day (`2027-03-31`, the end of that day UTC), a time
/// (`2027-03-31T12:00:00Z`), or a lifetime from now (`90d`, `12h`).
public enum ExpiryDate {
    public static func parse(_ text: String, now: Date = Date()) throws(GatehouseError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: TimeInterval] = ["h": 3600, "d": 86_400]
        if let unit = trimmed.last, let scale = units[unit], let count = Double(trimmed.dropLast()), count > 0 {
            return now.addingTimeInterval(count * scale)
        }
        if let date = ISO8601DateFormatter().date(from: trimmed) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: trimmed) { return date.addingTimeInterval(86_399) }
        throw .invalidArgument("\"\(text)\" is not an expiry. Give a day (2027-03-31), a time (2027-03-31T12:00:00Z) or a lifetime (90d, 12h).")
    }
}
