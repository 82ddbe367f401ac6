import Foundation
import GatehouseCore

/// The hooks git runs for a deployment key's push: `pre-receive` asks Gatehouse whether every ref update is
/// allowed by the key's rules (and refuses the whole push otherwise), `post-receive` audits what changed.
///
/// They live in the data directory, not in the repositories, and git finds them through `-c core.hooksPath` on
/// its command line, which nothing a client sends can change. Which key is pushing reaches them in variables the
/// server sets on a git environment it builds from nothing (`GitEnvironment`).
public struct GitHooks: Sendable {
    /// Where the hook scripts are.
    public let directory: URL
    /// The `gatehouse` binary the scripts run (`gatehouse hook pre-receive`).
    public let executable: String
    /// The data directory the hook opens.
    public let dataDirectory: String

    public init(directory: URL, executable: String, dataDirectory: String) {
        self.directory = directory
        self.executable = executable
        self.dataDirectory = dataDirectory
    }

    public static let names = ["pre-receive", "post-receive"]

    /// Writes the scripts (the same every time, so concurrent writers agree).
    public func install() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for name in Self.names {
            let script =
                "#!/bin/sh\n# Written by Gatehouse: checks and audits pushes of write-enabled deployment keys.\nexec \"$GATEHOUSE_HOOK_EXECUTABLE\" hook \(name)\n"
            let url = directory.appendingPathComponent(name)
            if (try? String(contentsOf: url, encoding: .utf8)) != script {
                try Data(script.utf8).write(to: url, options: .atomic)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
    }

    /// The git arguments and variables for `command`: none unless a deployment key is pushing.
    func setup(for command: AuthorizedGitCommand, sourceIP: String?) -> (arguments: [String], variables: [String: String]) {
        guard let keyID = command.refRulesOf else { return ([], [:]) }
        return (
            ["-c", "core.hooksPath=\(directory.path)"],
            [
                "GATEHOUSE_HOOK_EXECUTABLE": executable, "GATEHOUSE_DATA": dataDirectory, "GATEHOUSE_HOOK_KEY": keyID.uuidString,
                "GATEHOUSE_HOOK_REPOSITORY": command.repository.fullName, "GATEHOUSE_HOOK_SOURCE_IP": sourceIP ?? "",
            ]
        )
    }
}

extension GitHooks? {
    /// The hook set-up `command` needs; a deployment key's push without hooks is refused rather than run
    /// unchecked (fail closed).
    func required(for command: AuthorizedGitCommand, sourceIP: String?) throws -> (arguments: [String], variables: [String: String]) {
        guard command.refRulesOf != nil else { return ([], [:]) }
        guard let hooks = self else {
            throw GatehouseError.unavailable("This server cannot check the ref rules of deployment keys (no hooks configured), so it refuses their pushes.")
        }
        // A push that git would run without the check must not happen: put the scripts back if they are gone.
        if !GitHooks.names.allSatisfy({ FileManager.default.isExecutableFile(atPath: hooks.directory.appendingPathComponent($0).path) }) {
            do { try hooks.install() } catch {
                throw GatehouseError.unavailable("The ref-rule hooks could not be written to \(hooks.directory.path): \(error)")
            }
        }
        return hooks.setup(for: command, sourceIP: sourceIP)
    }
}
