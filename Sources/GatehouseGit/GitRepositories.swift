import Foundation
import GatehouseCore
import Subprocess

/// Bare repositories on disk at `ROOT/WORKSPACE/REPOSITORY.git`. Only validated slugs from the database ever
/// become path components, and a resolved path must stay under the root (no symlinks out).
public struct GitRepositories: RepositoryStorage {
    public let root: URL
    /// The hooks that check deployment keys' pushes; without them such pushes are refused.
    public let hooks: GitHooks?

    public init(root: URL, hooks: GitHooks? = nil) {
        self.root = root.standardizedFileURL
        self.hooks = hooks
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
            throw GatehouseError.unavailable("Repository \(repository.fullName) is missing on disk or outside the repository root.")
        }
        return real
    }

    /// `git init --bare`. A failure is the server's (a full disk, no git), never the caller's: `.unavailable`.
    public func create(_ repository: Repository) async throws {
        let directory = directory(of: repository)
        let failure: String?
        do {
            try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
            let result = try await Subprocess.run(
                .name("git"), arguments: ["init", "--bare", "--quiet", "--initial-branch=main", directory.path],
                environment: GitEnvironment.subprocess(), output: .discarded, error: .string(limit: 64 * 1024))
            failure = result.terminationStatus.isSuccess ? nil : "git init failed: \(result.standardError)"
        } catch {
            failure = "git init could not run: \(error)"
        }
        if let failure { throw GatehouseError.unavailable("\(failure) (repository \(repository.fullName))") }
    }
}
