import Foundation
import GatehouseCore
import Subprocess

/// Bare repositories on disk at `ROOT/WORKSPACE/REPOSITORY.git`. Only validated slugs from the database ever
/// become path components, and a resolved path must stay under the root (no symlinks out).
public struct GitRepositories: RepositoryStorage {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// The directory of a repository, without checking that it exists.
    public func directory(of repository: Repository) -> URL {
        root.appendingPathComponent(repository.workspaceSlug, isDirectory: true)
            .appendingPathComponent(repository.slug + ".git", isDirectory: true)
    }

    /// The directory with symlinks resolved, refused unless it is an existing directory inside the root.
    public func resolvedDirectory(of repository: Repository) throws -> String {
        let realRoot = root.resolvingSymlinksInPath().path
        let real = directory(of: repository).resolvingSymlinksInPath().path
        var isDirectory: ObjCBool = false
        guard real.hasPrefix(realRoot + "/"), FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GatehouseError.notFound("Repository \(repository.fullName) is missing on disk or outside the repository root.")
        }
        return real
    }

    public func create(_ repository: Repository) async throws {
        let directory = directory(of: repository)
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try await Subprocess.run(
            .name("git"), arguments: ["init", "--bare", "--quiet", "--initial-branch=main", directory.path],
            environment: GitEnvironment.base(), output: .discarded, error: .string(limit: 64 * 1024))
        guard result.terminationStatus.isSuccess else {
            throw GatehouseError.invalidArgument("git init failed for \(repository.fullName): \(result.standardError)")
        }
    }
}

/// The environment Git runs with: nothing inherited but PATH, so client-controlled or server-side variables
/// cannot change what Git does.
enum GitEnvironment {
    static func base(gitProtocol: String? = nil) -> Subprocess.Environment {
        var values: [Subprocess.Environment.Key: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        ]
        if let gitProtocol { values["GIT_PROTOCOL"] = gitProtocol }
        return .custom(values)
    }

    /// GIT_PROTOCOL as sent by clients (`version=2`, possibly `:`-separated); anything else is dropped.
    static func acceptedProtocol(_ value: String?) -> String? {
        guard let value, value.count <= 64,
              value.allSatisfy({ $0.isLetter || $0.isNumber || "=:._-".contains($0) }) else { return nil }
        return value
    }
}
