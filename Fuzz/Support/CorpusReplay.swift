import Foundation

/// Runs `harness` on every file named on the command line (or in a directory named there): the seed corpus and
/// any crash libFuzzer wrote, replayed by an ordinary build, so that a found input stays a regression test.
public func replayCorpus(_ harness: ([UInt8]) -> Void) throws {
    var inputs = 0
    for argument in CommandLine.arguments.dropFirst() {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
            throw ReplayError("No such file or directory: \(argument)")
        }
        let files =
            isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: argument).sorted().map { argument + "/" + $0 } : [argument]
        for file in files {
            harness(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            inputs += 1
        }
    }
    print("Replayed \(inputs) inputs without a failure.")
}

struct ReplayError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The fuzzer's bytes as text, the way a server receives text: invalid UTF-8 replaced.
public func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt

    /// Hands the process to libFuzzer with `test` as its target. SwiftPM names an executable's entry point after its
    /// module and aliases `main` to it, so libFuzzer's own `main` is never linked: each harness calls this from that
    /// entry point instead.
    public func runFuzzer(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt {
        var count = argc
        var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&count, &arguments, test)
    }
#endif
