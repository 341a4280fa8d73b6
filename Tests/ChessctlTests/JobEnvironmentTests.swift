import ChessAPI
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

    /// MPI launchers would look for `srun`; they are told to use ssh unless the job said otherwise.
    @Test func mpiLaunchersAreNotSentToSrun() throws {
        let part = JobLaunch.NodePart(node: "n01", cores: [0, 1], memoryMB: 0, numa: [0], gpus: [])
        var launch = JobLaunch(job: 7, arrayJobID: nil, arrayTaskID: nil, name: "mpi", user: "alice", uid: nil, gid: nil, account: "a",
                               partition: "p", script: "#!/bin/sh\n", workdir: nil, output: nil, error: nil,
                               environment: ["HYDRA_BOOTSTRAP": "slurm"], timeLimit: nil, nodeList: "n01", nodes: [part], tasks: 2,
                               cpusPerTask: 1)
        launch.run = 0
        let plan = LaunchPlan(launch: launch, node: "n01", cpus: [0, 1], mems: [0], memoryBytes: nil, gpus: [], killWait: 30, clusterName: "c")
        let env = JobEnvironment.build(plan, workdir: "/tmp")
        #expect(env["OMPI_MCA_plm"] == "rsh" && env["PRTE_MCA_plm"] == "ssh" && env["I_MPI_HYDRA_BOOTSTRAP"] == "ssh")
        #expect(env["HYDRA_BOOTSTRAP"] == "slurm", "the job's own choice stands")
        #expect(env["SLURM_TASKS_PER_NODE"] == "2" && env["SLURM_NODELIST"] == "n01")
    }

    @Test func tasksSpreadEvenlyTheFirstNodesTakingTheRest() {
        #expect(JobEnvironment.tasksPerNode(3, nodes: 2) == [2, 1])
        #expect(JobEnvironment.tasksPerNode(4, nodes: 3) == [2, 1, 1])
        #expect(JobEnvironment.tasksPerNode(8, nodes: 2) == [4, 4])
        #expect(JobEnvironment.compressedCounts(JobEnvironment.tasksPerNode(10, nodes: 4)) == "3(x2),2(x2)")
    }
}
