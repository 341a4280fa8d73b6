// The wire types an agent, a supervisor and the controller share live in ChessWire (no
// Foundation: the per-job supervisor links it alone); every user of ChessAPI sees them here.
@_exported import ChessWire
// sbatch's options and the submission they make, without Foundation (the `sbatch` binary).
@_exported import BatchSubmission
