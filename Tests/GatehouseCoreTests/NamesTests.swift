import GatehouseCore
import Testing

/// A candidate slug and whether it is valid.
struct SlugCase: Sendable, CustomTestStringConvertible {
    var text: String
    var isValid: Bool
    var behaviour: String

    var testDescription: String { "\(behaviour): \(isValid ? "valid" : "invalid")" }

    static let all: [SlugCase] = [
        .init(text: "a", isValid: true, behaviour: "one letter"),
        .init(text: "0day", isValid: true, behaviour: "starts with a digit"),
        .init(text: "my-repo", isValid: true, behaviour: "hyphen"),
        .init(text: "my_repo", isValid: true, behaviour: "underscore"),
        .init(text: "v1.2", isValid: true, behaviour: "single dots"),
        .init(text: "repo.github", isValid: true, behaviour: ".git inside but not at the end"),
        .init(text: "trailing-", isValid: true, behaviour: "ends with a hyphen"),
        .init(text: String(repeating: "a", count: 62), isValid: true, behaviour: "62 characters"),
        .init(text: "", isValid: false, behaviour: "empty"),
        .init(text: String(repeating: "a", count: 63), isValid: false, behaviour: "63 characters"),
        .init(text: "-repo", isValid: false, behaviour: "starts with a hyphen"),
        .init(text: "_repo", isValid: false, behaviour: "starts with an underscore"),
        .init(text: ".hidden", isValid: false, behaviour: "starts with a dot"),
        .init(text: "..", isValid: false, behaviour: "parent directory"),
        .init(text: "a..b", isValid: false, behaviour: "two dots"),
        .init(text: "repo.git", isValid: false, behaviour: "ends in .git"),
        .init(text: "Acme", isValid: false, behaviour: "uppercase"),
        .init(text: "a/b", isValid: false, behaviour: "slash"),
        .init(text: "a b", isValid: false, behaviour: "space"),
        .init(text: "a'b", isValid: false, behaviour: "quote"),
        .init(text: "a\u{0}b", isValid: false, behaviour: "NUL"),
        .init(text: "a\nb", isValid: false, behaviour: "newline"),
        .init(text: "café", isValid: false, behaviour: "non-ASCII letter"),
    ]
}

/// A label as typed, and the stored label or the reason it is refused.
struct LabelCase: Sendable, CustomTestStringConvertible {
    var input: String
    /// The trimmed label when accepted.
    var accepted: String?
    /// Words the refusal message must contain when refused.
    var reason: String?
    var behaviour: String

    var testDescription: String { behaviour }

    static let hundred = String(repeating: "x", count: 100)

    static let all: [LabelCase] = [
        .init(input: "laptop", accepted: "laptop", behaviour: "plain text is kept"),
        .init(input: "  CI runner  ", accepted: "CI runner", behaviour: "surrounding spaces are trimmed"),
        .init(input: "\tbuild box\t", accepted: "build box", behaviour: "surrounding tabs are trimmed"),
        .init(input: "Zoë's MacBook 🚀", accepted: "Zoë's MacBook 🚀", behaviour: "unicode and punctuation are kept"),
        .init(input: hundred, accepted: hundred, behaviour: "100 characters are accepted"),
        .init(input: "  \(hundred)  ", accepted: hundred, behaviour: "length is counted after trimming"),
        .init(input: "", reason: "empty", behaviour: "empty is refused"),
        .init(input: " \t ", reason: "empty", behaviour: "blank is refused"),
        .init(input: hundred + "x", reason: "longer than 100", behaviour: "101 characters are refused"),
        .init(input: "line\nbreak", reason: "control characters", behaviour: "a newline inside is refused"),
        .init(input: "trailing newline\n", reason: "control characters", behaviour: "a trailing newline is refused"),
        .init(input: "tab\tinside", reason: "control characters", behaviour: "a tab inside is refused"),
        .init(input: "nul\u{0}byte", reason: "control characters", behaviour: "NUL is refused"),
        .init(input: "del\u{7F}", reason: "control characters", behaviour: "DEL is refused"),
        .init(input: "ci\u{202E}revres", reason: "invisible formatting characters", behaviour: "a bidi override is refused"),
        .init(input: "build\u{200B}box", reason: "invisible formatting characters", behaviour: "a zero-width space is refused"),
        .init(input: "\u{FEFF}jenkins", reason: "invisible formatting characters", behaviour: "a byte order mark is refused"),
    ]

    init(input: String, accepted: String? = nil, reason: String? = nil, behaviour: String) {
        self.input = input
        self.accepted = accepted
        self.reason = reason
        self.behaviour = behaviour
    }
}

@Suite("Names")
struct NamesTests {
    @Test("slug validity", arguments: SlugCase.all)
    func slug(_ testCase: SlugCase) {
        #expect(Names.isValidSlug(testCase.text) == testCase.isValid)
    }

    @Test("an invalid slug is refused with a message naming it")
    func validateSlugExplains() {
        let error = #expect(throws: GatehouseError.self) {
            try Names.validateSlug("Bad Name", of: "workspace")
        }
        guard case .invalidName(let message)? = error else {
            Issue.record("expected invalidName, got \(String(describing: error))")
            return
        }
        #expect(message.contains("\"Bad Name\" is not a valid workspace name"))
    }

    @Test("labels are trimmed, 1–100 characters, without control characters", arguments: LabelCase.all)
    func label(_ testCase: LabelCase) throws {
        if let accepted = testCase.accepted {
            let label = try Names.validateLabel(testCase.input)
            #expect(label == accepted)
            return
        }
        let error = #expect(throws: GatehouseError.self) {
            _ = try Names.validateLabel(testCase.input)
        }
        guard case .invalidLabel(let message)? = error else {
            Issue.record("expected invalidLabel, got \(String(describing: error))")
            return
        }
        #expect(message.contains(testCase.reason ?? "?"))
    }
}
