import Foundation
import GatehouseCore

/// Renders a message as RFC 5322 text for SMTP DATA: headers, CRLF line ends, dot-stuffing.
enum MessageFormat {
    static func render(_ mail: OutgoingMail, from: String, date: Date = Date()) -> String {
        let ascii = mail.body.unicodeScalars.allSatisfy(\.isASCII)
        var headers = [
            "From: Gatehouse <\(from)>",
            "To: <\(mail.to)>",
            "Subject: \(encodeHeader(mail.subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@gatehouse>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        let body: String
        if ascii {
            headers.append("Content-Transfer-Encoding: 7bit")
            body = mail.body
        } else {
            // Base64 needs no 8BITMIME from the server, whatever the labels contain.
            headers.append("Content-Transfer-Encoding: base64")
            body = Data(mail.body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        }
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 2047 for non-ASCII subjects; newlines can never reach the header.
    static func encodeHeader(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard !flat.unicodeScalars.allSatisfy(\.isASCII) else { return flat }
        return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
