import ChessAPI
import HTTPServer
import SchedulerCore

/// `/metrics` in Prometheus text format.
enum Metrics {
    static func render(_ controller: Controller) -> HTTPResponse {
        var out = ""
        var byState: [String: [String: Int]] = [:]
        var reasons: [String: Int] = [:]
        for job in controller.queue(.init()) {
            byState[job.state, default: [:]][job.partition, default: 0] += 1
            if job.state == "PENDING" { reasons[job.reason ?? "None", default: 0] += 1 }
        }
        out += "# HELP chess_jobs Live jobs by state and partition.\n# TYPE chess_jobs gauge\n"
        for (state, parts) in byState.sorted(by: { $0.key < $1.key }) {
            for (partition, n) in parts.sorted(by: { $0.key < $1.key }) {
                out += "chess_jobs{state=\"\(state)\",partition=\"\(partition)\"} \(n)\n"
            }
        }
        let d = controller.diagnostics()
        out += "# HELP chess_nodes Nodes by state.\n# TYPE chess_nodes gauge\n"
        for (state, n) in d.nodes.sorted(by: { $0.key < $1.key }) { out += "chess_nodes{state=\"\(state)\"} \(n)\n" }
        out += "# HELP chess_scheduler_pass_seconds Duration of scheduling passes.\n# TYPE chess_scheduler_pass_seconds histogram\n"
        out += controller.passDurations.render(name: "chess_scheduler_pass_seconds",
                                               labels: "policy=\"\(controller.configuration.planner.policy.rawValue)\"")
        out += "# HELP chess_pending_jobs Pending jobs by reason.\n# TYPE chess_pending_jobs gauge\n"
        for (reason, n) in reasons.sorted(by: { $0.key < $1.key }) { out += "chess_pending_jobs{reason=\"\(reason)\"} \(n)\n" }
        out += "# HELP chess_jobs_submitted_total Jobs accepted since chessd started.\n# TYPE chess_jobs_submitted_total counter\n"
        out += "chess_jobs_submitted_total \(controller.submittedCount)\n"
        out += "# HELP chess_jobs_started_total Jobs and array tasks started since chessd started.\n# TYPE chess_jobs_started_total counter\n"
        out += "chess_jobs_started_total \(d.jobsStarted)\n"
        out += "# HELP chess_jobs_ended_total Jobs ended since chessd started, by final state.\n# TYPE chess_jobs_ended_total counter\n"
        for (state, n) in d.jobsEnded.sorted(by: { $0.key < $1.key }) { out += "chess_jobs_ended_total{state=\"\(state)\"} \(n)\n" }
        out += "# HELP chess_store_commits_total Store transactions committed.\n# TYPE chess_store_commits_total counter\n"
        out += "chess_store_commits_total \(d.storeCommits)\n"
        let stats = controller.statistics
        out += "# HELP chess_scheduler_passes_total Scheduling passes run.\n# TYPE chess_scheduler_passes_total counter\n"
        out += "chess_scheduler_passes_total \(stats.passes)\n"
        let handlers = SocketServer.handlerLoad
        out += "# HELP chess_api_handler_threads Threads that run API requests' handlers.\n# TYPE chess_api_handler_threads gauge\n"
        out += "chess_api_handler_threads \(handlers.threads)\n"
        out += "# HELP chess_api_handlers_busy Handler threads running a request now.\n# TYPE chess_api_handlers_busy gauge\n"
        out += "chess_api_handlers_busy \(handlers.busy)\n"
        out += "# HELP chess_api_requests_waiting Requests waiting for a handler thread.\n# TYPE chess_api_requests_waiting gauge\n"
        out += "chess_api_requests_waiting \(handlers.waiting)\n"
        return .text(out, contentType: "text/plain; version=0.0.4")
    }
}
