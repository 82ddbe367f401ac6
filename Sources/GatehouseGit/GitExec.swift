import GatehouseCore

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces the current process with git, for the OpenSSH forced command: sshd already connected the
/// client to our standard input and output, so nothing needs to be copied.
public enum GitExec {
    /// Execs `git SERVICE DIRECTORY` with the same environment as the built-in server. Returns only on failure.
    public static func replaceProcess(
        with command: AuthorizedGitCommand, directory: String, gitProtocol: String?, hooks: GitHooks?, sourceIP: String?
    ) -> GatehouseError {
        let setup: (arguments: [String], variables: [String: String])
        do {
            setup = try hooks.required(for: command, sourceIP: sourceIP)
        } catch {
            return GatehouseError(error)
        }
        let variables = GitEnvironment.variables(gitProtocol: gitProtocol).merging(setup.variables, uniquingKeysWith: { $1 })
        let path = variables["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { directory -> String in "\(directory)/git" }
        guard let git = candidates.first(where: { access($0, X_OK) == 0 }) else {
            return .unavailable("git is not installed on the server (not found in \(path)).")
        }
        let environment = variables.map { "\($0.key)=\($0.value)" }
        let arguments = ["git"] + setup.arguments + [command.service.rawValue, directory]
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        execve(git, cArguments, cEnvironment)
        return .unavailable("Could not start git: \(String(cString: strerror(errno))).")
    }
}
