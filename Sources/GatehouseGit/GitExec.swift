import Foundation
import GatehouseCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs git for the OpenSSH forced command: sshd already connected the client to our standard input and output,
/// which git inherits, so nothing is copied. This process stays as git's parent only to end it when access is
/// withdrawn while it runs.
public enum GitExec {
    /// Starts `git SERVICE DIRECTORY` with the same environment as the built-in server and returns its process id.
    public static func spawn(
        _ command: AuthorizedGitCommand, directory: String, gitProtocol: String?, hooks: GitHooks?, sourceIP: String?
    ) throws -> pid_t {
        let invocation = try GitInvocation(command, directory: directory, gitProtocol: gitProtocol, hooks: hooks, sourceIP: sourceIP)
        let path = invocation.variables["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { directory -> String in "\(directory)/git" }
        guard let git = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw GatehouseError.unavailable("git is not installed on the server (not found in \(path)).")
        }
        let arguments = ["git"] + invocation.arguments
        let environment = invocation.variables.map { "\($0.key)=\($0.value)" }
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        // Git starts with every signal at its default and none blocked, whatever this process inherited or set up
        // (an ignored SIGTERM would survive the exec and leave git deaf to `stop`).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, git, nil, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw GatehouseError.unavailable("Could not start git: \(String(cString: strerror(result))).") }
        return pid
    }

    /// Waits for the process on a thread of its own (a blocking `waitpid` must not hold a task thread) and returns
    /// its exit status, 128 + the signal's number when a signal ended it.
    public static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    /// Asks git to stop (it removes its lock files on SIGTERM).
    public static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
    }
}
