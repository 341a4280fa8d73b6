@testable import NodeSupervisor
import Testing

/// Slurm's per-node variables as MPI launchers parse them.
@Suite("Job environment") struct JobEnvironmentTests {
    @Test func countsAreCompressedAsSlurmWritesThem() {
        #expect(JobEnvironment.compressedCounts([8, 8, 4]) == "8(x2),4")
        #expect(JobEnvironment.compressedCounts([4, 8, 8, 8, 4]) == "4,8(x3),4")
        #expect(JobEnvironment.compressedCounts([1]) == "1")
        #expect(JobEnvironment.compressedCounts([]) == "")
    }

    @Test func tasksSpreadEvenlyTheFirstNodesTakingTheRest() {
        #expect(JobEnvironment.tasksPerNode(3, nodes: 2) == [2, 1])
        #expect(JobEnvironment.tasksPerNode(4, nodes: 3) == [2, 1, 1])
        #expect(JobEnvironment.tasksPerNode(8, nodes: 2) == [4, 4])
        #expect(JobEnvironment.compressedCounts(JobEnvironment.tasksPerNode(10, nodes: 4)) == "3(x2),2(x2)")
    }
}
