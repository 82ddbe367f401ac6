import Foundation

/// Rules for the names that end up in URLs, SSH paths and directory names.
public enum Names {
    /// Longest slug, username or label accepted.
    public static let maximumSlugLength = 62
    public static let maximumLabelLength = 100

    /// Lowercase letters, digits, `-`, `_` and `.`; starts with a letter or digit; does not end in `.git`.
    /// This excludes `..`, `/`, quotes, spaces and NUL, so a valid slug is always one safe path component.
    public static func isValidSlug(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= maximumSlugLength else { return false }
        guard isLowerAlphanumeric(first) else { return false }
        guard !text.hasSuffix(".git"), !text.contains("..") else { return false }
        return text.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Checks a slug and says what is wrong with it.
    public static func validateSlug(_ text: String, of what: String) throws(GatehouseError) {
        guard isValidSlug(text) else {
            throw .invalidName(
                "\"\(text)\" is not a valid \(what) name: use 1–\(maximumSlugLength) lowercase letters, digits, '-', '_' or '.', starting with a letter or digit, not ending in .git."
            )
        }
    }

    /// A label: trimmed, 1–100 characters, no control characters.
    public static func validateLabel(_ text: String) throws(GatehouseError) -> String {
        let label = text.trimmingCharacters(in: .whitespaces)
        guard !label.isEmpty else { throw .invalidLabel("The label is empty. Give the key a name, e.g. the machine that uses it.") }
        guard label.count <= maximumLabelLength else {
            throw .invalidLabel("The label is longer than \(maximumLabelLength) characters. Use a shorter name.")
        }
        guard !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidLabel("The label contains control characters (such as newlines or tabs). Use plain text.")
        }
        // Bidi controls and zero-width characters (Unicode's format category) can make one label look like another
        // in a list or a mail.
        guard !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .format }) else {
            throw .invalidLabel(
                "The label contains invisible formatting characters (bidi controls or zero-width characters), which can make it look like another. Use plain text."
            )
        }
        return label
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// `workspace/repository` as users and Git clients write it: `ws/repo`, `ws/repo.git`, `/ws/repo.git`.
public struct RepositoryPath: Sendable, Equatable, CustomStringConvertible {
    public var workspace: String
    public var repository: String

    public init(workspace: String, repository: String) {
        self.workspace = workspace
        self.repository = repository
    }

    /// Nil for anything that is not exactly two valid slugs (so `..`, extra components and odd characters never match).
    public init?(parsing text: String) {
        var path = Substring(text)
        if path.hasPrefix("/") { path = path.dropFirst() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, Names.isValidSlug(String(parts[0])), Names.isValidSlug(String(parts[1])) else { return nil }
        self.init(workspace: String(parts[0]), repository: String(parts[1]))
    }

    public var description: String { "\(workspace)/\(repository)" }
}

extension UUID {
    /// An id as Bitbucket writes it, `{uuid}`, or the bare uuid; the braces may arrive percent-encoded in a URL.
    public init?(braced text: String) {
        var raw = text.removingPercentEncoding ?? text
        if raw.hasPrefix("{"), raw.hasSuffix("}") { raw = String(raw.dropFirst().dropLast()) }
        self.init(uuidString: raw)
    }
}
