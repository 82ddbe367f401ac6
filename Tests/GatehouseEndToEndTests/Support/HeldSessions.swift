import Foundation

/// Sessions a test keeps open: git waiting for the client, and OpenSSH connection masters that later sessions share.
extension TestGatehouse {
    /// Runs `git-upload-pack` for `fullName` with the real ssh, keeping the client's side open for `seconds` (git waits
    /// for it after advertising its refs), then ending it cleanly. Returns once git runs on the server, with the task that ends with the ssh
    /// result. `expectGit: false` returns at once, for sessions that are refused before git starts.
    func heldUploadPack(
        _ fullName: String, key: KeyPair, seconds: Int = 20, options: [String] = [], expectGit: Bool = true
    ) async throws -> Task<CommandResult, any Error> {
        let running = try await gitProcesses(fullName)
        let line = sshCommand([key], options: options) + ["\(sshUser)@127.0.0.1", "git-upload-pack '\(fullName).git'"]
        // Then a flush packet: the client wants nothing, and git ends cleanly.
        let script = "exec \(Self.shellQuoted(line)) < <(sleep \(seconds) 2>/dev/null; printf 0000)"
        let session = Task { try await runAsync("bash", ["-c", script]) }
        guard expectGit else { return session }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if try await gitProcesses(fullName) > running { return session }
            try await Task.sleep(for: .milliseconds(50))
        }
        session.cancel()
        throw TestSetupError("git upload-pack for \(fullName) did not start within 15 s")
    }

    /// How many `git upload-pack` processes serve `fullName` now.
    func gitProcesses(_ fullName: String) async throws -> Int {
        let repository = try await data.directory.requireRepository(fullName)
        let result = try await runAsync("pgrep", ["-fc", "upload-pack \(data.repositories.directory(of: repository).path)"])
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Starts an OpenSSH connection master on a control socket with `key`, runs `body` with the socket's path, and
    /// stops the master whatever happens.
    func withControlMaster(_ key: KeyPair, options: [String] = [], _ body: (String) async throws -> Void) async throws {
        let socket = root.appendingPathComponent("cm-\(UUID().uuidString.prefix(8))").path
        let line = sshCommand([key], options: ["-M", "-S", socket, "-o", "ControlPersist=yes", "-f", "-N"] + options) + ["\(sshUser)@127.0.0.1"]
        let started = try await runAsync("bash", ["-c", "\(Self.shellQuoted(line)) </dev/null >/dev/null 2>&1"])
        guard started.succeeded else { throw TestSetupError("the connection master did not start: \(started)") }
        do {
            try await body(socket)
        } catch {
            _ = try? await controlMaster(socket, "exit")
            throw error
        }
        _ = try? await controlMaster(socket, "exit")
    }

    /// `ssh -S SOCKET -O COMMAND`: `check` succeeds while the master's connection is up.
    func controlMaster(_ socket: String, _ command: String) async throws -> CommandResult {
        try await runAsync("ssh", ["-S", socket, "-O", command, "\(sshUser)@127.0.0.1"])
    }

    /// Options that send a session through the master on `socket`.
    static func through(_ socket: String) -> [String] { ["-S", socket, "-o", "ControlMaster=no"] }

    static func shellQuoted(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }
}
