import Foundation

/// When something stops working, as people write it: a day (`2027-03-31`, the end of that day UTC), a time
/// (`2027-03-31T12:00:00Z`), or a lifetime from now (`90d`, `12h`, `30m`). Keys, tokens and overlaps all read it here.
public enum ExpiryDate {
    public static func parse(_ text: String, now: Date = Date()) throws(GatehouseError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.last?.isLetter == true, let seconds = seconds(trimmed), seconds > 0 { return now.addingTimeInterval(seconds) }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let parsed = ISO8601DateFormatter().date(from: trimmed) ?? day.date(from: trimmed).map { $0.addingTimeInterval(86_399) }
        if let parsed, parsed.timeIntervalSince(now) <= century { return parsed }
        throw .invalidArgument(
            "\"\(text)\" is not a date or a lifetime. Give a day (2027-03-31), a time (2027-03-31T12:00:00Z) or a lifetime (90d, 12h).")
    }

    /// A lifetime alone (`24h`, `90m`, `7d`, `3600s`, or plain seconds), for overlaps and token lifetimes.
    public static func lifetime(_ text: String) throws(GatehouseError) -> TimeInterval {
        guard let seconds = seconds(text.trimmingCharacters(in: .whitespaces)) else {
            throw .invalidArgument("\"\(text)\" is not a duration. Give e.g. 24h, 90m, 7d or 0.")
        }
        return seconds
    }

    /// Refuses an expiry that has already passed (keys and tokens alike).
    public static func requireFuture(_ expiry: Date?, now: Date) throws(GatehouseError) {
        guard let expiry, expiry <= now else { return }
        let example = ISO8601DateFormatter().string(from: now.addingTimeInterval(90 * 86_400)).prefix(10)
        throw .invalidArgument("The expiry date is in the past. Give a future date, e.g. \(example), or 90d.")
    }

    /// The start of `date`'s UTC day: expiries, lifetime policies, warnings and the daily audit entry all count
    /// UTC days.
    public static func startOfUTCDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    private static let century: TimeInterval = 100 * 366 * 86_400

    /// Finite, not negative, at most a century; nil for anything else.
    private static func seconds(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let value: TimeInterval?
        if let unit = text.last, let scale = units[unit], let count = Double(text.dropLast()) {
            value = count * scale
        } else {
            value = Double(text)
        }
        guard let value, value.isFinite, value >= 0, value <= century else { return nil }
        return value
    }
}
