#if canImport(Glibc)
    import Glibc
#endif

/// Every connection and every git process's pipes take descriptors; the soft limit (often 1,024) is the first
/// thing a burst of connections would run into, so the server takes what the hard limit allows.
enum OpenFileLimit {
    /// Raises the soft limit to the hard limit and returns the limit in force.
    static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return UInt64(limit.rlim_cur)
    }
}
