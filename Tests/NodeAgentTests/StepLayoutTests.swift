import Testing
@testable import NodeSupervisor

/// How srun lays a step's tasks out on its job's nodes: the first nodes, dealt in turn while each
/// has CPUs for one more, numbered in blocks.
@Suite("Step layout")
struct StepLayoutTests {
    func plan(tasks: Int? = nil, nodes: Int? = nil, perNode: Int? = nil, cpt: Int? = nil, overlap: Bool = false,
              cpus: [Int], job: Int? = nil) throws -> StepLayout {
        try StepLayout.plan(tasks: tasks, nodes: nodes, tasksPerNode: perNode, cpusPerTask: cpt, overlap: overlap, cpus: cpus,
                            defaultTasks: job)
    }

    @Test func withoutOptionsTheJobsTasksOrOnePerNode() throws {
        #expect(try plan(cpus: [4, 4], job: 6).counts == [3, 3])
        #expect(try plan(cpus: [4, 4, 4], job: nil).counts == [1, 1, 1])
        #expect(try plan(cpus: [8, 8], job: 3).counts == [2, 1])
        #expect(try plan(nodes: 2, cpus: [8, 8, 8], job: 12).counts == [1, 1])
        #expect(try plan(perNode: 2, cpus: [8, 8], job: 1).counts == [2, 2])
    }

    @Test func tasksGoToTheFirstNodesBalancedWhereCPUsAllow() throws {
        let l = try plan(tasks: 5, cpus: [4, 4, 4])
        #expect(l.counts == [2, 2, 1])
        #expect(l.firstTask(onNode: 2) == 4)
        // A small node takes what it has room for; the big one the rest.
        #expect(try plan(tasks: 10, cpus: [8, 2]).counts == [8, 2])
        #expect(try plan(tasks: 2, cpus: [4, 4, 4]).counts == [1, 1])
        #expect(try plan(tasks: 4, cpt: 2, cpus: [4, 4]).counts == [2, 2])
        #expect(try plan(tasks: 3, perNode: 2, cpus: [4, 4, 4]).counts == [2, 1])
    }

    @Test func moreThanTheJobHoldsIsRefusedUnlessOverlapping() throws {
        #expect(throws: StepLayout.Refusal.self) { try plan(tasks: 9, cpus: [4, 4]) }
        #expect(throws: StepLayout.Refusal.self) { try plan(tasks: 2, cpt: 5, cpus: [4, 4]) }
        #expect(throws: StepLayout.Refusal.self) { try plan(nodes: 3, cpus: [4, 4]) }
        #expect(throws: StepLayout.Refusal.self) { try plan(tasks: 5, perNode: 2, cpus: [8, 8]) }
        #expect(try plan(tasks: 9, overlap: true, cpus: [4, 4]).counts == [5, 4])
    }

    @Test func fewerTasksThanNodesLowersTheNodeCountWithAWarning() throws {
        let l = try plan(tasks: 1, nodes: 2, cpus: [4, 4])
        #expect(l.counts == [1])
        #expect(l.warnings == ["can't run 1 process on 2 nodes, setting nnodes to 1"])
    }
}
