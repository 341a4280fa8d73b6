/// What the agent measured for a job.
package struct JobUsage: Codable, Sendable, Hashable {
    package var cpuSeconds: Int
    package var maxRSSMB: Int
    package var gpuSeconds: Int

    package init(cpuSeconds: Int, maxRSSMB: Int, gpuSeconds: Int) {
        self.cpuSeconds = cpuSeconds
        self.maxRSSMB = maxRSSMB
        self.gpuSeconds = gpuSeconds
    }
}
