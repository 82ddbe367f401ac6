/// The Git services a client may run over SSH.
public enum GitService: String, Sendable, CaseIterable {
    case uploadPack = "upload-pack"
    case receivePack = "receive-pack"
    case uploadArchive = "upload-archive"

    public var operation: Operation { self == .receivePack ? .write : .read }
}

/// A command received over SSH (exec request or `SSH_ORIGINAL_COMMAND`), parsed without a shell.
public struct GitCommand: Sendable, Equatable {
    public var service: GitService
    /// The path exactly as the client sent it, for messages.
    public var requestedPath: String
    /// Nil when the path can never name a repository; the caller answers "not found" like for any unknown path.
    public var path: RepositoryPath?

    public init(service: GitService, requestedPath: String, path: RepositoryPath?) {
        self.service = service
        self.requestedPath = requestedPath
        self.path = path
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case forbiddenCharacters
        case unknownCommand(String)
        case badArguments

        public var description: String {
            switch self {
            case .forbiddenCharacters:
                "The command contains control characters or shell syntax, which are not accepted. Run git clone, fetch or push against ssh://git@HOST/WORKSPACE/REPOSITORY.git."
            case .unknownCommand(let command):
                "Unknown command '\(command)'. This server runs only git-upload-pack, git-receive-pack and git-upload-archive; shell access is disabled."
            case .badArguments:
                "Expected exactly one repository path, e.g. git-upload-pack 'workspace/repository.git'."
            }
        }
    }

    /// Accepts `git-upload-pack 'ws/repo.git'`, `git upload-pack ws/repo.git` and the same for the other services.
    /// The path may be single-quoted as Git quotes it; anything a shell would interpret is refused.
    public init(parsing command: String) throws(ParseError) {
        let forbidden: Set<Character> = [";", "|", "&", "$", "`", "\\", "\"", "<", ">", "(", ")", "{", "}", "*", "?", "!", "~"]
        if command.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) || command.contains(where: forbidden.contains) {
            throw .forbiddenCharacters
        }
        var words = command.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else { throw .unknownCommand("") }
        if first == "git", words.count >= 2 {
            words.removeFirst()
            words[0] = "git-" + words[0]
        }
        guard words[0].hasPrefix("git-"), let service = GitService(rawValue: String(words[0].dropFirst(4))) else {
            throw .unknownCommand(words[0])
        }
        guard words.count == 2 else { throw .badArguments }
        var argument = Substring(words[1])
        if argument.hasPrefix("'") {
            guard argument.count >= 2, argument.hasSuffix("'") else { throw .badArguments }
            argument = argument.dropFirst().dropLast()
        }
        guard !argument.contains("'"), !argument.isEmpty else { throw .badArguments }
        self.init(service: service, requestedPath: String(argument), path: RepositoryPath(parsing: String(argument)))
    }
}
