import CNuma

/// NUMA distances between this host's domains, from libnuma (10 is local, as in the ACPI SLIT).
enum NUMADistances {
    /// Rows and columns in the order of `osIndexes` (the domains' OS numbers); nil without NUMA.
    static func read(osIndexes: [Int]) -> [[Int]]? {
        guard numa_available() >= 0, !osIndexes.isEmpty else { return nil }
        let rows = osIndexes.map { a in osIndexes.map { b in Int(numa_distance(Int32(a), Int32(b))) } }
        return rows.allSatisfy({ $0.allSatisfy { $0 > 0 } }) ? rows : nil
    }
}
