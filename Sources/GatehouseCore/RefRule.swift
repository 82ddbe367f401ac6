/// What a push does to one ref.
public enum RefOperation: String, Sendable, CaseIterable, Codable, Comparable {
    /// The ref did not exist.
    case create
    /// A fast-forward: the new commit contains the old one.
    case update
    /// A non-fast-forward update (`git push --force`).
    case force
    case delete

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which refs a write-enabled deployment key may change, and how: a pattern matched against whole ref names
/// (`*` within one path segment, `**` across segments) and the operations allowed on matching refs.
public struct RefRule: Sendable, Hashable, CustomStringConvertible {
    public var pattern: String
    public var operations: Set<RefOperation>

    /// What a rule allows when it names no operations.
    public static let defaultOperations: Set<RefOperation> = [.create, .update]

    public init(pattern: String, operations: Set<RefOperation> = RefRule.defaultOperations) throws(GatehouseError) {
        try Self.validate(pattern: pattern)
        guard !operations.isEmpty else { throw .invalidArgument("The rule for \(pattern) allows nothing. Give one or more of create, update, force, delete.") }
        self.pattern = pattern
        self.operations = operations
    }

    /// `PATTERN` or `PATTERN:OPERATION,OPERATION`, as the CLI takes it (`refs/heads/release/**:create,update,force`).
    public init(parsing text: String) throws(GatehouseError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            try self.init(pattern: parts[0])
            return
        }
        var operations: Set<RefOperation> = []
        for name in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard let operation = RefOperation(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw .invalidArgument(
                    "\"\(name)\" in \"\(text)\" is not an operation. Use create, update (fast-forward), force (non-fast-forward) or delete, separated by commas."
                )
            }
            operations.insert(operation)
        }
        try self.init(pattern: parts[0], operations: operations)
    }

    /// `PATTERN:OPERATIONS`, the form `init(parsing:)` reads and the database keeps.
    public var description: String { "\(pattern):\(sortedOperations.map(\.rawValue).joined(separator: ","))" }

    public var sortedOperations: [RefOperation] { operations.sorted() }

    /// Whether the rule allows `operation` on `ref`.
    public func allows(_ operation: RefOperation, on ref: String) -> Bool {
        operations.contains(operation) && Self.matches(pattern: pattern, ref: ref)
    }

    /// Whole-name glob matching: `*` is any run of characters except `/`, `**` any run including `/`.
    /// Linear in pattern × name (no backtracking), since the name comes from the client.
    public static func matches(pattern: String, ref: String) -> Bool {
        enum Token: Equatable {
            case byte(UInt8)
            case star
            case doubleStar
        }
        var tokens: [Token] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "*") {
                let double = index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*")
                tokens.append(double ? .doubleStar : .star)
                index += double ? 2 : 1
            } else {
                tokens.append(.byte(bytes[index]))
                index += 1
            }
        }
        let name = Array(ref.utf8)
        // reachable[j]: the tokens so far can match the first j bytes of the name.
        var reachable = [Bool](repeating: false, count: name.count + 1)
        reachable[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: name.count + 1)
            switch token {
            case .byte(let byte):
                for j in 0..<name.count where reachable[j] && name[j] == byte { next[j + 1] = true }
            case .star, .doubleStar:
                var open = false
                for j in 0...name.count {
                    if reachable[j] { open = true }
                    if open { next[j] = true }
                    // A single star cannot run past a '/'.
                    if token == .star, j < name.count, name[j] == UInt8(ascii: "/") { open = false }
                }
            }
            reachable = next
        }
        return reachable[name.count]
    }

    /// A pattern is a full ref name (`refs/…`) of the characters Git allows in ref names, with `*` wildcards.
    static func validate(pattern: String) throws(GatehouseError) {
        guard pattern.hasPrefix("refs/") else {
            let name = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
            throw .invalidArgument(
                "\"\(pattern)\" is not a full ref name. Patterns match whole ref names: write refs/tags/\(name) for tags or refs/heads/\(name) for branches."
            )
        }
        guard pattern.count <= 200 else { throw .invalidArgument("The ref pattern is longer than 200 characters. Use a shorter one.") }
        let forbidden = pattern.unicodeScalars.first { scalar in
            scalar.value < 0x21 || scalar.value == 0x7F || "~^:?[\\,;\"'".unicodeScalars.contains(scalar)
        }
        guard forbidden == nil, !pattern.contains(".."), !pattern.contains("//"), !pattern.contains("***"), !pattern.hasSuffix("/") else {
            throw .invalidArgument(
                "\"\(pattern)\" is not a valid ref pattern: use the characters of Git ref names, * within a path segment and ** across segments, e.g. refs/tags/v* or refs/heads/release/**."
            )
        }
    }
}

/// One ref a push changes: what `pre-receive` reads on standard input, with the operation it amounts to.
public struct RefUpdate: Sendable, Equatable {
    public var ref: String
    public var operation: RefOperation

    public init(ref: String, operation: RefOperation) {
        self.ref = ref
        self.operation = operation
    }
}

/// The rules of write-enabled attachments, encoded for the database: `PATTERN:OPS;PATTERN:OPS` (patterns never
/// contain `;`, `:` or `,`).
public enum StoredRefRules {
    public static func column(_ rules: [RefRule]) -> String? {
        rules.isEmpty ? nil : rules.map(\.description).joined(separator: ";")
    }

    public static func rules(_ column: String?) -> [RefRule] {
        guard let column else { return [] }
        return column.split(separator: ";").compactMap { try? RefRule(parsing: String($0)) }
    }
}
