import FuzzSupport
import GatehouseCore

/// The ref-rule parser and matcher: the first line is a rule (`PATTERN[:ops]`), the second a ref. A rule is refused
/// or matches refs without trapping, and a pattern without wildcards matches exactly itself.
func check(_ bytes: [UInt8]) {
    let lines = text(bytes).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard let rule = try? RefRule(parsing: lines[0]) else { return }
    let ref = lines.count > 1 ? lines[1] : rule.pattern
    for operation in RefOperation.allCases { _ = rule.allows(operation, on: ref) }
    if !rule.pattern.contains("*") {
        guard RefRule.matches(pattern: rule.pattern, ref: rule.pattern) else { fatalError("\(rule.pattern) does not match itself") }
        guard RefRule.matches(pattern: rule.pattern, ref: ref) == (ref == rule.pattern) else {
            fatalError("\(rule.pattern) matches \(ref)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
    @_cdecl("FuzzRefRules_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        runFuzzer(argc, argv, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws { try replayCorpus(check) }
    }
#endif
