import GatehouseCore
import Testing

/// A command that parses, with what it must parse to.
struct AcceptedCommand: Sendable, CustomTestStringConvertible {
    var command: String
    var service: GitService
    var requestedPath: String
    /// Nil when the path can never name a repository (the caller then answers "not found").
    var path: RepositoryPath?

    var testDescription: String { command }

    static let all: [AcceptedCommand] = [
        .init(
            command: "git-upload-pack 'ws/repo.git'", service: .uploadPack, requestedPath: "ws/repo.git",
            path: RepositoryPath(workspace: "ws", repository: "repo")),
        .init(
            command: "git-upload-pack '/ws/repo.git'", service: .uploadPack, requestedPath: "/ws/repo.git",
            path: RepositoryPath(workspace: "ws", repository: "repo")),
        .init(
            command: "git upload-pack ws/repo.git", service: .uploadPack, requestedPath: "ws/repo.git",
            path: RepositoryPath(workspace: "ws", repository: "repo")),
        .init(
            command: "git-receive-pack 'ws/repo'", service: .receivePack, requestedPath: "ws/repo",
            path: RepositoryPath(workspace: "ws", repository: "repo")),
        .init(
            command: "git-upload-archive 'ws/repo.git'", service: .uploadArchive, requestedPath: "ws/repo.git",
            path: RepositoryPath(workspace: "ws", repository: "repo")),
        .init(
            command: "git-upload-pack  'my-ws/my_repo.v2.git'", service: .uploadPack,
            requestedPath: "my-ws/my_repo.v2.git", path: RepositoryPath(workspace: "my-ws", repository: "my_repo.v2")),
        // Parses, but the path can never name a repository.
        .init(command: "git-upload-pack '../x.git'", service: .uploadPack, requestedPath: "../x.git", path: nil),
        .init(command: "git-upload-pack 'ws/../etc'", service: .uploadPack, requestedPath: "ws/../etc", path: nil),
        .init(
            command: "git-upload-pack '/etc/ssh/sshd_config'", service: .uploadPack,
            requestedPath: "/etc/ssh/sshd_config", path: nil),
        .init(command: "git-upload-pack 'ws/repo/extra'", service: .uploadPack, requestedPath: "ws/repo/extra", path: nil),
        .init(command: "git-upload-pack 'WS/Repo.git'", service: .uploadPack, requestedPath: "WS/Repo.git", path: nil),
        .init(
            command: "git-upload-pack 'ws/repo.git.git'", service: .uploadPack, requestedPath: "ws/repo.git.git",
            path: nil),
        .init(command: "git-upload-pack '//ws/repo.git'", service: .uploadPack, requestedPath: "//ws/repo.git", path: nil),
        .init(command: "git-upload-pack 'ws//repo'", service: .uploadPack, requestedPath: "ws//repo", path: nil),
        .init(command: "git-upload-pack 'repo.git'", service: .uploadPack, requestedPath: "repo.git", path: nil),
        // A filesystem-looking path is only ever a workspace/repository name, looked up in the store.
        .init(
            command: "git-upload-pack '/etc/passwd'", service: .uploadPack, requestedPath: "/etc/passwd",
            path: RepositoryPath(workspace: "etc", repository: "passwd")),
    ]
}

/// A command that is refused, with why.
struct RefusedCommand: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var command: String
    var expected: GitCommand.ParseError

    var testDescription: String { behaviour }

    static let all: [RefusedCommand] = [
        .init(behaviour: "a shell command", command: "ls", expected: .unknownCommand("ls")),
        .init(behaviour: "an empty command", command: "", expected: .unknownCommand("")),
        .init(behaviour: "git alone", command: "git", expected: .unknownCommand("git")),
        .init(behaviour: "another git program", command: "git-shell 'ws/repo.git'", expected: .unknownCommand("git-shell")),
        .init(behaviour: "a service without a path", command: "git-upload-pack", expected: .badArguments),
        .init(behaviour: "two paths", command: "git-upload-pack 'a/b.git' 'c/d.git'", expected: .badArguments),
        .init(behaviour: "an unterminated quote", command: "git-upload-pack 'a/b.git", expected: .badArguments),
        .init(behaviour: "a lone quote", command: "git-upload-pack '", expected: .badArguments),
        .init(behaviour: "empty quotes", command: "git-upload-pack ''", expected: .badArguments),
        .init(behaviour: "a quote inside the path", command: "git-upload-pack 'a/b'c.git'", expected: .badArguments),
        .init(
            behaviour: "a command chained with ;", command: "git-upload-pack 'a/b.git'; rm -rf /",
            expected: .forbiddenCharacters),
        .init(behaviour: "command substitution $( )", command: "git-upload-pack $(id)", expected: .forbiddenCharacters),
        .init(
            behaviour: "command substitution with backticks", command: "git-upload-pack `id`",
            expected: .forbiddenCharacters),
        .init(behaviour: "a pipe", command: "git-upload-pack 'a/b.git' | cat", expected: .forbiddenCharacters),
        .init(behaviour: "a background &", command: "git-upload-pack 'a/b.git' & id", expected: .forbiddenCharacters),
        .init(behaviour: "a redirection", command: "git-upload-pack 'a/b.git' > /tmp/x", expected: .forbiddenCharacters),
        .init(behaviour: "double quotes", command: "git-upload-pack \"a/b.git\"", expected: .forbiddenCharacters),
        .init(behaviour: "a newline", command: "git-upload-pack 'a/b.git'\nid", expected: .forbiddenCharacters),
        .init(behaviour: "a NUL byte", command: "git-upload-pack 'a/b.git'\u{0}", expected: .forbiddenCharacters),
        .init(behaviour: "a tab", command: "git-upload-pack\t'a/b.git'", expected: .forbiddenCharacters),
        .init(behaviour: "a home-directory tilde", command: "git-upload-pack '~/b.git'", expected: .forbiddenCharacters),
    ]
}

@Suite("Parsing the SSH command")
struct GitCommandTests {
    @Test("accepted commands give the service, the path as sent and the repository path", arguments: AcceptedCommand.all)
    func accepted(_ testCase: AcceptedCommand) throws {
        let command = try GitCommand(parsing: testCase.command)
        #expect(command == GitCommand(service: testCase.service, requestedPath: testCase.requestedPath, path: testCase.path))
    }

    @Test("refused commands throw exactly their ParseError", arguments: RefusedCommand.all)
    func refused(_ testCase: RefusedCommand) {
        #expect(throws: testCase.expected) {
            _ = try GitCommand(parsing: testCase.command)
        }
    }

    @Test(
        "only receive-pack writes",
        arguments: zip(
            [GitService.uploadPack, .receivePack, .uploadArchive],
            [GatehouseCore.Operation.read, .write, .read]))
    func serviceOperation(_ service: GitService, _ operation: GatehouseCore.Operation) {
        #expect(service.operation == operation)
    }

    @Test(
        "every ParseError explains itself",
        arguments: [
            GitCommand.ParseError.forbiddenCharacters, .unknownCommand("ls"), .badArguments,
        ])
    func parseErrorMessage(_ error: GitCommand.ParseError) {
        #expect(!error.description.isEmpty)
    }
}
