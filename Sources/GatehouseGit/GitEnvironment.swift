import Foundation
import GatehouseCore
import Subprocess

/// How git is started for an authorized command — arguments after `git`, and its whole environment — the same
/// for the built-in server and the forced command.
struct GitInvocation {
    var arguments: [String]
    var variables: [String: String]

    /// Throws when a deployment key's push needs the ref-rule hooks and they cannot be set up (fail closed).
    init(_ command: AuthorizedGitCommand, directory: String, gitProtocol: String?, hooks: GitHooks?, sourceIP: String?) throws {
        let setup = try hooks.required(for: command, sourceIP: sourceIP)
        arguments = setup.arguments + [command.service.rawValue, directory]
        variables = GitEnvironment.variables(gitProtocol: gitProtocol).merging(setup.variables, uniquingKeysWith: { $1 })
    }
}

/// The environment Git runs with: nothing inherited but PATH, so client-controlled or server-side variables
/// cannot change what Git does.
enum GitEnvironment {
    static func variables(gitProtocol: String?) -> [String: String] {
        var values = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        ]
        if let accepted = acceptedProtocol(gitProtocol) { values["GIT_PROTOCOL"] = accepted }
        return values
    }

    /// `variables` (by default the base set) as swift-subprocess takes them.
    static func subprocess(_ variables: [String: String] = variables(gitProtocol: nil)) -> Subprocess.Environment {
        var values: [Subprocess.Environment.Key: String] = [:]
        for (name, value) in variables { values[Subprocess.Environment.Key(stringLiteral: name)] = value }
        return .custom(values)
    }

    /// GIT_PROTOCOL as sent by clients (`version=2`, possibly `:`-separated); anything else is dropped.
    static func acceptedProtocol(_ value: String?) -> String? {
        guard let value, value.count <= 64,
            value.allSatisfy({ $0.isLetter || $0.isNumber || "=:._-".contains($0) })
        else { return nil }
        return value
    }
}
