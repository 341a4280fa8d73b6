import BatchSubmission
import Glibc

// `sbatch`: the submit command alone, in a binary without Foundation or ArgumentParser (see
// `SubmitCommand`). `chessctl submit` runs the same code.
do {
    exit(try SubmitCommand.run(Array(CommandLine.arguments.dropFirst()), program: "sbatch"))
} catch {
    CallingProcess.writeError("sbatch: error: \(error)\n")
    exit(1)
}
